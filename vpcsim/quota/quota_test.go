package quota

import (
	"strings"
	"testing"
)

func TestProfiles(t *testing.T) {
	var zero Limits
	local, err := Profile("local")
	if err != nil {
		t.Fatal(err)
	}
	aws, err := Profile("aws")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range Table {
		if zero.Of(q.Name) != q.Local || local.Of(q.Name) != q.Local {
			t.Errorf("%s: the zero value and local give %d, %d; want %d", q.Name, zero.Of(q.Name), local.Of(q.Name), q.Local)
		}
		want := q.AWS
		if want == 0 {
			want = q.Local // a cap of vpcsim's own stays in the aws profile
		}
		if aws.Of(q.Name) != want {
			t.Errorf("%s: aws gives %d, want %d", q.Name, aws.Of(q.Name), want)
		}
		if q.Local <= 0 || q.Code == "" || q.Message == "" || q.What == "" {
			t.Errorf("%s: every quota needs a local bound, an error and a description: %+v", q.Name, q)
		}
	}
	// AWS's default account quotas, as its quota pages give them.
	for name, want := range map[Name]int{VPCs: 5, SubnetsPerVPC: 200, NetworkInterfaces: 5000, SecurityGroups: 2500,
		RulesPerSecurityGroup: 60, SecurityGroupsPerInterface: 5, Clusters: 10000, ContainerInstancesPerCluster: 5000,
		RevisionsPerFamily: 1000000, FargateTasks: 1000} {
		if got := aws.Of(name); got != want {
			t.Errorf("aws %s = %d, want %d", name, got, want)
		}
	}
	if _, err := Profile("huge"); err == nil || !strings.Contains(err.Error(), "local or aws") {
		t.Errorf("an unknown profile: %v", err)
	}
}

func TestParseOverrides(t *testing.T) {
	l, err := Parse("aws", " vpcs=50 , tasks=3,")
	if err != nil {
		t.Fatal(err)
	}
	if l.Of(VPCs) != 50 || l.Of(Tasks) != 3 || l.Of(SubnetsPerVPC) != 200 || l.ProfileName() != "aws" {
		t.Errorf("aws with vpcs=50,tasks=3: vpcs %d tasks %d subnets-per-vpc %d (%s)", l.Of(VPCs), l.Of(Tasks), l.Of(SubnetsPerVPC), l.ProfileName())
	}
	if !l.Over(VPCs, 51) || l.Over(VPCs, 50) {
		t.Error("Over: 51 is over 50, 50 is not")
	}
	// Set returns a copy: the profile it came from is unchanged.
	base, _ := Profile("local")
	if _, err := base.Set(VPCs, 1); err != nil || base.Of(VPCs) != 500 {
		t.Errorf("Set changed its receiver: %d, %v", base.Of(VPCs), err)
	}
	for _, bad := range []string{"vpcs", "vpcs=", "vpcs=-1", "vpcs=x", "nope=3"} {
		if _, err := Parse("local", bad); err == nil {
			t.Errorf("Parse(%q) took it", bad)
		}
	}
	if _, err := Parse("local", "nope=3"); err == nil || !strings.Contains(err.Error(), "vpcs") {
		t.Errorf("an unknown quota's error lists the quotas: %v", err)
	}
}

// TestCheck: a refusal has AWS's code and words; where the bound in effect is
// not AWS's, the message says which quota of vpcsim's it hit and how to set it.
func TestCheck(t *testing.T) {
	aws, _ := Profile("aws")
	if e := aws.Check(VPCs, 5); e != nil {
		t.Errorf("5 VPCs of 5: %v", e)
	}
	e := aws.Check(VPCs, 6)
	if e == nil || e.Code != "VpcLimitExceeded" || e.Message != "The maximum number of VPCs has been reached." || e.Name != VPCs {
		t.Errorf("6 VPCs of AWS's 5: %+v", e)
	}
	e = aws.Check(Instances, 21)
	if e == nil || e.Code != "InstanceLimitExceeded" || !strings.HasPrefix(e.Message, "You have requested more instances (21) than your current instance limit of 20 allows") {
		t.Errorf("21 instances of AWS's 20: %+v", e)
	}
	var local Limits
	e = local.Check(VPCs, 501)
	if e == nil || e.Message != "The maximum number of VPCs has been reached. (vpcsim's quota vpcs is 500: serve --quota vpcs=N sets it)" {
		t.Errorf("501 VPCs of the local 500: %+v", e)
	}
	// vpcsim's own caps stay in the aws profile, and say they are vpcsim's.
	if e = aws.Check(Tasks, 2001); e == nil || !strings.Contains(e.Message, "vpcsim's quota tasks is 2000") {
		t.Errorf("2001 tasks in the aws profile: %+v", e)
	}
}
