package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// quotaTable renders the README's table of quotas from quota.Table, the one
// place the code keeps them.
func quotaTable() string {
	var b strings.Builder
	b.WriteString("\n| quota (`--quota NAME=N`) | counts | local (default) | aws | a call beyond it |\n|---|---|---|---|---|\n")
	for _, q := range quota.Table {
		aws := thousands(q.AWS)
		if q.AWS == 0 {
			aws = "none: keeps " + thousands(q.Local)
		}
		refusal := q.Code
		if refusal == "RunTask failure" {
			refusal = "a RunTask/StartTask `failures` entry"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", q.Name, q.What, thousands(q.Local), aws, refusal)
	}
	return b.String()
}

// thousands writes n as the README writes numbers: 10,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// TestReadmeQuotas keeps README.md's quota table true to quota.Table
// (go test ./cmd/vpcsim -run TestReadmeQuotas -update rewrites it).
func TestReadmeQuotas(t *testing.T) { keepReadmeSection(t, "quotas", quotaTable()) }
