package synflood

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	r, err := Probe(context.Background(), srv.URL+"/", time.Second)
	if err != nil || r.Error != "" || r.ConnectMS == nil || r.RequestMS == nil || r.HTTPCode != 204 {
		t.Fatalf("url probe: %+v %v", r, err)
	}
	addr := strings.TrimPrefix(srv.URL, "http://")
	r, err = Probe(context.Background(), addr, time.Second)
	if err != nil || r.Error != "" || r.ConnectMS == nil || r.RequestMS != nil {
		t.Fatalf("tcp probe: %+v %v", r, err)
	}
	// a closed port fails with an error in the result, not a Go error
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	r, err = Probe(context.Background(), closed, time.Second)
	if err != nil || r.Error == "" || r.ConnectMS != nil {
		t.Fatalf("closed port: %+v %v", r, err)
	}
	for _, bad := range []string{"", "host", "ftp://x/", "http://", ":80"} {
		if _, _, err := ParseProbeTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
