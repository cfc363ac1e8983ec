// Command hostfix turns hosting-server runbooks into safe, scriptable commands.
package main

import (
	"os"

	"github.com/hostfix/hostfix/cmd"
)

func main() {
	os.Exit(cmd.Execute())
}
