package synflood

import (
	"bytes"
	"fmt"
	"strconv"
)

// CounterNames are the TcpExt counters the check reads, by name: their column order differs
// between kernels, so position means nothing.
var CounterNames = []string{
	"SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed",
	"ListenOverflows", "ListenDrops",
	"TCPReqQFullDoCookies", "TCPReqQFullDrop", "TCPSynRetrans",
}

// ParseNetstat parses /proc/net/netstat (or /proc/net/snmp): pairs of lines, a header
// "Prefix: Name1 Name2 …" followed by "Prefix: v1 v2 …". It returns prefix -> name -> value.
// A pair whose counts differ, or a value that is not a number, is an error.
func ParseNetstat(data []byte) (map[string]map[string]uint64, error) {
	out := map[string]map[string]uint64{}
	lines := bytes.Split(data, []byte("\n"))
	var hdr [][]byte
	var hdrPrefix string
	hdrLine := 0
	for i, line := range lines {
		line = bytes.TrimRight(line, "\r ")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("line %d: want \"Prefix: …\"", i+1)
		}
		prefix := string(line[:colon])
		fields := bytes.Fields(line[colon+1:])
		if hdr == nil {
			hdr, hdrPrefix, hdrLine = fields, prefix, i+1
			if len(hdr) == 0 {
				return nil, fmt.Errorf("line %d: %s header has no names", i+1, prefix)
			}
			continue
		}
		if prefix != hdrPrefix {
			return nil, fmt.Errorf("line %d: values for %q follow the %q header of line %d", i+1, prefix, hdrPrefix, hdrLine)
		}
		if len(fields) != len(hdr) {
			return nil, fmt.Errorf("line %d: %s has %d values for %d names", i+1, prefix, len(fields), len(hdr))
		}
		m := out[prefix]
		if m == nil {
			m = make(map[string]uint64, len(hdr))
			out[prefix] = m
		}
		for k, f := range fields {
			// Some counters (Tcp: MaxConn) are signed; keep them as their two's complement.
			v, err := strconv.ParseUint(string(f), 10, 64)
			if err != nil {
				sv, err2 := strconv.ParseInt(string(f), 10, 64)
				if err2 != nil {
					return nil, fmt.Errorf("line %d: %s %s: %q is not a number", i+1, prefix, hdr[k], f)
				}
				v = uint64(sv)
			}
			m[string(hdr[k])] = v
		}
		hdr = nil
	}
	if hdr != nil {
		return nil, fmt.Errorf("line %d: %s header without a value line", hdrLine, hdrPrefix)
	}
	return out, nil
}
