package ec2

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// describeCalls are every filtered Describe call of the domain, each with one
// filter name it knows, so that a test can run them all alike.
func describeCalls(tc *testCloud) map[string]struct {
	name string
	call func(context.Context, []Filter) error
} {
	type entry = struct {
		name string
		call func(context.Context, []Filter) error
	}
	return map[string]entry{
		"vpcs": {"vpc-id", func(ctx context.Context, f []Filter) error { _, err := tc.DescribeVpcs(ctx, west, nil, f); return err }},
		"subnets": {"subnet-id", func(ctx context.Context, f []Filter) error {
			_, err := tc.DescribeSubnets(ctx, west, nil, f)
			return err
		}},
		"groups": {"group-name", func(ctx context.Context, f []Filter) error {
			_, err := tc.DescribeSecurityGroups(ctx, west, nil, nil, f)
			return err
		}},
		"rules": {"security-group-rule-id", func(ctx context.Context, f []Filter) error {
			_, err := tc.DescribeSecurityGroupRules(ctx, west, nil, f)
			return err
		}},
		"enis": {"description", func(ctx context.Context, f []Filter) error {
			_, err := tc.DescribeNetworkInterfaces(ctx, west, nil, f)
			return err
		}},
		"instances": {"instance-id", func(ctx context.Context, f []Filter) error {
			_, err := tc.DescribeInstances(ctx, west, nil, f)
			return err
		}},
		"flowlogs": {"flow-log-id", func(ctx context.Context, f []Filter) error {
			_, err := tc.DescribeFlowLogs(ctx, west, nil, f)
			return err
		}},
		"tags": {"key", func(ctx context.Context, f []Filter) error { _, err := tc.DescribeTags(ctx, west, f); return err }},
		"instance-types": {"instance-type", func(ctx context.Context, f []Filter) error {
			_, err := tc.DescribeInstanceTypes(ctx, nil, f)
			return err
		}},
		"static tables": {"region-name", func(ctx context.Context, f []Filter) error {
			_, err := MatchFilters(f, func(string) ([]string, bool) { return []string{"us-west-2"}, true })
			return err
		}},
	}
}

func values(n int, v string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%d", v, i)
	}
	return out
}

// TestFilterLimits: EC2 takes at most 200 filter values in one call, over all
// its filters, each at most 255 characters; beyond, FilterLimitExceeded in
// EC2's words, before any name is looked at.
func TestFilterLimits(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	const tooMany = "The maximum number of filter values specified on a single call is 200"
	const tooLong = "The maximum length for a filter value is 255 characters"
	for what, d := range describeCalls(tc) {
		for _, tcase := range []struct {
			filters []Filter
			msg     string // "" = taken
		}{
			{[]Filter{{Name: d.name, Values: values(200, "x")}}, ""},
			{[]Filter{{Name: d.name, Values: values(201, "x")}}, tooMany},
			{[]Filter{{Name: d.name, Values: values(150, "x")}, {Name: "tag:Name", Values: values(51, "y")}}, tooMany},
			{[]Filter{{Name: d.name, Values: values(199, "x")}, {Name: "tag:Name"}}, ""},
			{[]Filter{{Name: d.name, Values: values(200, "x")}, {Name: "tag:Name"}}, tooMany}, // a filter without values counts as one
			{[]Filter{{Name: d.name, Values: []string{strings.Repeat("*", 255)}}}, ""},
			{[]Filter{{Name: d.name, Values: []string{strings.Repeat("é", 255)}}}, ""}, // characters, not bytes
			{[]Filter{{Name: d.name, Values: []string{"a", strings.Repeat("*", 256)}}}, tooLong},
			{[]Filter{{Name: "colour", Values: []string{strings.Repeat("*", 256)}}}, tooLong}, // before the name is read
			{[]Filter{{Name: "colour", Values: values(201, "x")}}, tooMany},
		} {
			err := d.call(ctx, tcase.filters)
			n, longest := 0, 0
			for _, f := range tcase.filters {
				n += len(f.Values)
				for _, v := range f.Values {
					longest = max(longest, len([]rune(v)))
				}
			}
			if tcase.msg == "" {
				if err != nil {
					t.Errorf("%s with %d filters, %d values, the longest %d characters: %v", what, len(tcase.filters), n, longest, err)
				}
				continue
			}
			e, ok := AsAPIError(err)
			if !ok || e.Code != "FilterLimitExceeded" || e.Message != tcase.msg {
				t.Errorf("%s with %d filters, %d values, the longest %d characters: %v; want FilterLimitExceeded %q", what, len(tcase.filters), n, longest, err, tcase.msg)
			}
		}
	}
}

// TestDescribeFiltersWithoutTheLock: a Describe call matches its filters after
// it released the model lock, so a call that needs the lock completes while
// the matching is under way. The hook runs where the matching starts: the lock
// must be free there, and another API call (which takes it and commits) must
// complete inside the hook. Were the lock held, TryLock would fail (and the
// call would deadlock).
func TestDescribeFiltersWithoutTheLock(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	v := tc.vpc(t, "10.0.0.0/16")
	n := 0
	for what, d := range describeCalls(tc) {
		if what == "instance-types" || what == "static tables" {
			continue // they read no model
		}
		ran := false
		tc.beforeFilter = func() {
			ran = true
			if !tc.mu.TryLock() {
				t.Errorf("%s: the model lock is held while the filters are matched", what)
				return
			}
			tc.mu.Unlock()
			n++
			if _, err := tc.CreateSecurityGroup(ctx, west, CreateSecurityGroupInput{VPCID: v.ID, Name: fmt.Sprintf("during-%d", n), Description: what}); err != nil {
				t.Errorf("%s: another call during the matching: %v", what, err)
			}
		}
		if err := d.call(ctx, []Filter{{Name: d.name, Values: []string{"*"}}}); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		if !ran {
			t.Errorf("%s matched its filters without passing the hook", what)
		}
	}
	tc.beforeFilter = nil
	groups := must[[]SecurityGroup](t)(tc.DescribeSecurityGroups(ctx, west, nil, nil, []Filter{{Name: "group-name", Values: []string{"during-*"}}}))
	if len(groups) != n || n == 0 {
		t.Errorf("%d groups made during the matching, %d found", n, len(groups))
	}
}

// TestDescribeGivesUpWithItsClient: a Describe call whose client went away
// stops matching.
func TestDescribeGivesUpWithItsClient(t *testing.T) {
	tc := newTestCloud(t)
	ctx, cancel := context.WithCancel(context.Background())
	tc.beforeFilter = cancel
	_, err := tc.DescribeSubnets(ctx, west, nil, []Filter{{Name: "subnet-id", Values: []string{"*"}}})
	if err != context.Canceled {
		t.Fatalf("a cancelled Describe: %v, want context.Canceled", err)
	}
}
