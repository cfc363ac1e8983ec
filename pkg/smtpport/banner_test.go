package smtpport_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"time"
)

// bannerMain is the SMTP program xinetd runs in the integration test (stdin/stdout are the
// connection, as with qmail-smtpd under tcp-env):
//
//	banner-server 220 TEXT…  print "220 TEXT…", then answer QUIT with 221
//	banner-server silent     print nothing and hang up
func bannerMain(args []string) int {
	if len(args) == 0 || args[0] == "silent" {
		return 0
	}
	fmt.Printf("%s\r\n", strings.Join(args, " "))
	r := bufio.NewReader(os.Stdin)
	done := make(chan struct{})
	go func() {
		r.ReadString('\n')
		fmt.Print("221 bye\r\n")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return 0
}
