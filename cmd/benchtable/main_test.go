package main

import (
	"strings"
	"testing"
	"time"
)

// TestTables feeds go test -v -bench output, a line a second, and checks the
// tables and times that come out.
func TestTables(t *testing.T) {
	out := `goos: linux
pkg: example.com/fw
BenchmarkFirewallUpdate
BenchmarkFirewallUpdate-2   	      20	  78123456 ns/op	        78.12 ms/update
BenchmarkConnectionsThrough1000Rules
BenchmarkConnectionsThrough1000Rules-2   	      20	    591234 ns/op	      1691 conns/s
BenchmarkConnectionsThrough1000MemberGroup
BenchmarkConnectionsThrough1000MemberGroup-2   	      20	    326234 ns/op	      3065 conns/s
PASS
ok  	example.com/fw	12.345s
pkg: example.com/e2e
BenchmarkAPI
BenchmarkAPI/DescribeSubnets/vpcsim
BenchmarkAPI/DescribeSubnets/vpcsim-2   	      20	   1234 ns/op	         0.812 p50-ms	         2.100 p99-ms	      4100 req/s
--- BENCH: BenchmarkAPI/DescribeSubnets/vpcsim-2
    bench_api_test.go:287: 1 of 2000 requests made again
BenchmarkAPI/DescribeSubnets/moto
BenchmarkAPI/DescribeSubnets/moto-2     	      20	   1234 ns/op	        12.50 p50-ms	        30.00 p99-ms	       300.0 req/s
BenchmarkAPI/DescribeTasks/moto
    bench_api_test.go:60: moto_server is not installed
--- SKIP: BenchmarkAPI/DescribeTasks/moto
BenchmarkPlain
BenchmarkPlain-2   	      20	      1234 ns/op	     512 B/op	       3 allocs/op
PASS
ok  	example.com/e2e	20.5s
`
	p := newParser(time.Unix(0, 0))
	for i, l := range strings.Split(out, "\n") {
		p.line(l, time.Unix(int64(i), 0))
	}
	var b strings.Builder
	p.write(&b, 90*time.Second)
	got := b.String()
	for _, want := range []string{
		"example.com/fw\n                  ms/update  took\n  FirewallUpdate      78.12  1.0s\n\n",
		"  ConnectionsThrough1000Rules           1691  1.0s\n",
		"example.com/e2e API\n                          req/s  p50-ms  p99-ms  took\n  DescribeSubnets/vpcsim   4100   0.812   2.100  1.0s\n",
		"  Plain   1234  1.0s\n",
		"skipped: example.com/e2e API/DescribeTasks/moto\n",
		"  example.com/fw   FirewallUpdate                     2.0s\n",
		"  example.com/e2e  API                                10.0s\n",
		"ok   example.com/fw 12.345s\n",
		"total 1m30s\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the tables lack %q:\n%s", want, got)
		}
	}
}
