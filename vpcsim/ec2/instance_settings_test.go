package ec2

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/amicatalog"
)

// What describes an instance takes EC2's defaults and is refused where EC2
// refuses it, with EC2's codes.
func TestInstanceSettingsRules(t *testing.T) {
	yes := true
	for _, c := range []struct {
		name string
		typ  string
		in   SettingsInput
		code string
	}{
		{"defaults", "m5.large", SettingsInput{}, ""},
		{"protections", "m5.large", SettingsInput{DisableAPITermination: &yes, DisableAPIStop: &yes}, ""},
		{"bad shutdown behavior", "m5.large", SettingsInput{ShutdownBehavior: "hibernate"}, "InvalidParameterValue"},
		{"bad tenancy", "m5.large", SettingsInput{Tenancy: "shared"}, "InvalidParameterValue"},
		{"profile by name and ARN", "m5.large", SettingsInput{IAMProfileName: "a", IAMProfileARN: "arn:aws:iam::1:instance-profile/a"}, "InvalidParameterCombination"},
		{"profile ARN of something else", "m5.large", SettingsInput{IAMProfileARN: "arn:aws:iam::1:role/a"}, "InvalidParameterValue"},
		{"hop limit", "m5.large", SettingsInput{Metadata: MetadataInput{HopLimit: ptrTo(65)}}, "InvalidParameterValue"},
		{"hop limit 0", "m5.large", SettingsInput{Metadata: MetadataInput{HopLimit: ptrTo(0)}}, "InvalidParameterValue"},
		{"tokens", "m5.large", SettingsInput{Metadata: MetadataInput{HTTPTokens: "always"}}, "InvalidParameterValue"},
		{"credits of a T", "t3.micro", SettingsInput{CPUCredits: "standard"}, ""},
		{"one core, one thread", "m5.xlarge", SettingsInput{CoreCount: 1, ThreadsPerCore: 1}, ""},
		{"more cores than the type", "m5.xlarge", SettingsInput{CoreCount: 3}, "InvalidParameterValue"},
		{"three threads a core", "m5.xlarge", SettingsInput{ThreadsPerCore: 3}, "InvalidParameterValue"},
		{"auto recovery off", "m5.large", SettingsInput{AutoRecovery: "disabled"}, ""},
		{"auto recovery maybe", "m5.large", SettingsInput{AutoRecovery: "maybe"}, "InvalidParameterValue"},
		{"no reservation to use", "m5.large", SettingsInput{Reservations: "capacity-reservations-only"}, "InvalidParameterCombination"},
		{"credits of an M", "m5.large", SettingsInput{CPUCredits: "standard"}, "InstanceCreditSpecification.NotSupported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := settingsFor("123456789012", c.typ, c.in)
			checkCode(t, err, c.code)
			if c.name == "defaults" && (got.ShutdownBehavior != "stop" || got.Metadata.HTTPTokens != "optional" || got.Metadata.HopLimit != 1 || got.Tenancy != "default") {
				t.Errorf("defaults %+v", got)
			}
		})
	}
	if s, _ := settingsFor("123456789012", "t3.micro", SettingsInput{IAMProfileName: "ecs"}); s.IAMProfileARN != "arn:aws:iam::123456789012:instance-profile/ecs" ||
		len(s.IAMProfileID) != 21 || s.CPUCredits != "unlimited" {
		t.Errorf("a profile by name, T3 credits: %+v", s)
	}
	if s := defaultSettings("t2.micro"); s.CPUCredits != "standard" {
		t.Errorf("T2 credits %q, want standard", s.CPUCredits)
	}
}

// An instance's volumes: an 8 GiB gp3 root unless its mapping says
// otherwise, the other EBS mappings as volumes, each checked as EC2 checks
// them.
func TestInstanceVolumes(t *testing.T) {
	now := time.Now()
	vols, err := volumesFor(nil, now)
	if err != nil || len(vols) != 1 || vols[0].Device != RootDevice || vols[0].Size != 8 || vols[0].Type != "gp3" ||
		vols[0].Iops != 3000 || vols[0].Throughput != 125 || !vols[0].DeleteOnTermination {
		t.Fatalf("the default root volume: %+v %v", vols, err)
	}
	no := false
	vols, err = volumesFor([]BlockDeviceInput{
		{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 100, Type: "gp2", DeleteOnTermination: &no}},
		{DeviceName: RootDevice, EBS: &EBSInput{Size: 30, Type: "io2", Iops: 5000}},
		{DeviceName: "/dev/sdg", NoDevice: true},
	}, now)
	if err != nil || len(vols) != 2 || vols[0].Size != 30 || vols[0].Iops != 5000 || vols[1].Iops != 300 || vols[1].DeleteOnTermination {
		t.Fatalf("mapped volumes: %+v %v", vols, err)
	}
	for _, c := range []struct {
		name string
		maps []BlockDeviceInput
		code string
	}{
		{"root below its snapshot", []BlockDeviceInput{{DeviceName: RootDevice, EBS: &EBSInput{Size: 4}}}, "InvalidBlockDeviceMapping"},
		{"too large", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 20000}}}, "InvalidParameterValue"},
		{"st1 too small", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 10, Type: "st1"}}}, "InvalidParameterValue"},
		{"no such type", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 10, Type: "gp4"}}}, "InvalidParameterValue"},
		{"iops of gp2", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 10, Type: "gp2", Iops: 100}}}, "InvalidParameterCombination"},
		{"io1 without iops", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 10, Type: "io1"}}}, "MissingParameter"},
		{"throughput of gp2", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 10, Type: "gp2", Throughput: 200}}}, "InvalidParameterCombination"},
		{"a device twice", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 1}}, {DeviceName: "/dev/sdf", EBS: &EBSInput{Size: 1}}}, "InvalidBlockDeviceMapping"},
		{"no size", []BlockDeviceInput{{DeviceName: "/dev/sdf", EBS: &EBSInput{}}}, "MissingParameter"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := volumesFor(c.maps, now)
			checkCode(t, err, c.code)
		})
	}
}

func checkCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *APIError
	switch {
	case code == "" && err != nil:
		t.Fatalf("refused: %v", err)
	case code != "" && (!errors.As(err, &ae) || ae.Code != code):
		t.Fatalf("err %v, want %s", err, code)
	}
}

// Status checks pass once an instance runs and do not apply otherwise; a
// burstable instance's credit option changes, another's is refused on its
// own line of the answer.
func TestInstanceStatusAndCredits(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	sub := tc.subnet(t, tc.vpc(t, "10.0.0.0/16").ID, "10.0.0.0/24")
	run := func(typ string) Instance {
		t.Helper()
		return must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: "ami-12345678", InstanceType: typ, MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))[0]
	}
	burst, big := run("t3.micro"), run("m5.large")
	tc.Wait()
	if _, err := tc.StopInstances(ctx, west, []string{big.ID}); err != nil {
		t.Fatal(err)
	}
	tc.Wait()
	running := must[[]InstanceStatus](t)(tc.DescribeInstanceStatus(ctx, west, nil, nil, false))
	all := must[[]InstanceStatus](t)(tc.DescribeInstanceStatus(ctx, west, nil, []Filter{{Name: "instance-status.status", Values: []string{"not-applicable"}}}, true))
	if len(running) != 1 || running[0].InstanceID != burst.ID || running[0].Status != "ok" || len(all) != 1 || all[0].InstanceID != big.ID {
		t.Fatalf("statuses: running %+v, not applicable %+v", running, all)
	}
	ok, failed, err := tc.ModifyInstanceCreditSpecification(ctx, west, []CreditSpec{{InstanceID: burst.ID, CPUCredits: "standard"}, {InstanceID: big.ID, CPUCredits: "standard"}})
	if err != nil || len(ok) != 1 || len(failed) != 1 || failed[0].InstanceID != big.ID || failed[0].Code != "InstanceCreditSpecification.NotSupported" {
		t.Fatalf("modify: %v %v %v", ok, failed, err)
	}
	specs := must[[]CreditSpec](t)(tc.DescribeInstanceCreditSpecifications(ctx, west, nil))
	if len(specs) != 1 || specs[0].CPUCredits != "standard" {
		t.Fatalf("credit specifications: %+v", specs)
	}
	_, err = tc.DescribeInstanceCreditSpecifications(ctx, west, []string{big.ID})
	wantCode(t, err, "InvalidParameterValue")
	zone := ZoneIDOf("us-west-2", sub.AZ)
	if vols := must[[]VolumeView](t)(tc.DescribeVolumes(ctx, west, nil, []Filter{{Name: "availability-zone-id", Values: []string{zone}}, {Name: "multi-attach-enabled", Values: []string{"false"}}})); len(vols) != 2 || zone == "" {
		t.Fatalf("the two root volumes in %q: %+v", zone, vols)
	}

	// Resized to a T type, it has its new type's credit option; a setting
	// changed on it is what Describe answers.
	if err := tc.ModifyInstanceAttribute(ctx, west, big.ID, InstanceAttributeChange{InstanceType: ptrTo("t3.small"), DisableAPITermination: ptrTo(true)}); err != nil {
		t.Fatal(err)
	}
	specs = must[[]CreditSpec](t)(tc.DescribeInstanceCreditSpecifications(ctx, west, []string{big.ID}))
	got := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{big.ID}, nil))
	if len(specs) != 1 || specs[0].CPUCredits != "unlimited" || !got[0].Described().DisableAPITermination {
		t.Fatalf("after the resize: %+v, settings %+v", specs, got[0].Described())
	}
	// The network attributes are the primary ENI's.
	if err := tc.ModifyInstanceAttribute(ctx, west, burst.ID, InstanceAttributeChange{SourceDestCheck: ptrTo(false)}); err != nil {
		t.Fatal(err)
	}
	if got := must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{burst.ID}, nil)); got[0].ENIs[0].SourceDestCheck {
		t.Fatalf("the primary ENI's source/destination check stays on")
	}
	wantCode(t, tc.ModifyInstanceAttribute(ctx, west, burst.ID, InstanceAttributeChange{Groups: []string{"sg-0123456789abcdef0"}}), "InvalidGroup.NotFound")
	// And back to an M: no credits.
	if err := tc.ModifyInstanceAttribute(ctx, west, big.ID, InstanceAttributeChange{InstanceType: ptrTo("m5.large")}); err != nil {
		t.Fatal(err)
	}
	_, err = tc.DescribeInstanceCreditSpecifications(ctx, west, []string{big.ID})
	wantCode(t, err, "InvalidParameterValue")
}

// An instance's enhanced networking attributes are its image's at launch
// (ENA on and no SR-IOV for an image vpcsim does not know); they change
// only while it is stopped, SR-IOV only to simple (EC2 cannot turn it off),
// and Describe answers what they are.
func TestEnhancedNetworkingAttributes(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	sub := tc.subnet(t, tc.vpc(t, "10.0.0.0/16").ID, "10.0.0.0/24")
	plain := must[string](t)(tc.RegisterImage(ctx, west, RegisterImageInput{Name: "no-ena", RootDeviceName: RootDevice}))
	run := func(image string) string {
		t.Helper()
		return must[[]Instance](t)(tc.RunInstances(ctx, west, RunInstancesInput{ImageID: image, InstanceType: "m5.large", MinCount: 1, MaxCount: 1, SubnetID: sub.ID}))[0].ID
	}
	described := func(id string) InstanceSettings {
		t.Helper()
		return must[[]Instance](t)(tc.DescribeInstances(ctx, west, []string{id}, nil))[0].Described()
	}
	madeUp, catalogue, mine := run("ami-12345678"), run(amicatalog.ECSAmazonLinux2023.ID), run(plain)
	tc.Wait()
	for _, tt := range []struct {
		id    string
		ena   bool
		sriov string
	}{{madeUp, true, ""}, {catalogue, true, "simple"}, {mine, false, ""}} {
		if st := described(tt.id); st.EnaSupport() != tt.ena || st.SriovNetSupport != tt.sriov {
			t.Fatalf("at launch: ena %v sriov %q, want %v %q", st.EnaSupport(), st.SriovNetSupport, tt.ena, tt.sriov)
		}
	}

	err := tc.ModifyInstanceAttribute(ctx, west, mine, InstanceAttributeChange{EnaSupport: ptrTo(true)})
	if e, _ := AsAPIError(err); e == nil || e.Code != "IncorrectInstanceState" || e.Message != "The instance '"+mine+"' is not in the 'stopped' state." {
		t.Fatalf("ENA changed on a running instance: %v", err)
	}
	wantCode(t, tc.ModifyInstanceAttribute(ctx, west, mine, InstanceAttributeChange{SriovNetSupport: ptrTo("simple")}), "IncorrectInstanceState")
	must[[]InstanceStateChange](t)(tc.StopInstances(ctx, west, []string{mine, madeUp}))
	tc.Wait()
	for _, v := range []string{"", "none", "Simple"} {
		wantCode(t, tc.ModifyInstanceAttribute(ctx, west, mine, InstanceAttributeChange{SriovNetSupport: ptrTo(v)}), "InvalidParameterValue")
	}
	for _, ch := range []InstanceAttributeChange{{EnaSupport: ptrTo(true)}, {SriovNetSupport: ptrTo("simple")}} {
		if err := tc.ModifyInstanceAttribute(ctx, west, mine, ch); err != nil {
			t.Fatal(err)
		}
	}
	if err := tc.ModifyInstanceAttribute(ctx, west, madeUp, InstanceAttributeChange{EnaSupport: ptrTo(false)}); err != nil {
		t.Fatal(err)
	}
	if st := described(mine); !st.EnaSupport() || st.SriovNetSupport != "simple" {
		t.Fatalf("after the changes: ena %v sriov %q", st.EnaSupport(), st.SriovNetSupport)
	}
	if st := described(madeUp); st.EnaSupport() {
		t.Fatal("ENA still on after it was turned off")
	}
	// Stored: a restart answers the same.
	again := tc.reopen(t)
	got := must[[]Instance](t)(again.DescribeInstances(ctx, west, []string{mine, madeUp}, nil))
	if m, u := got[0].Described(), got[1].Described(); got[0].ID != mine || !m.EnaSupport() || m.SriovNetSupport != "simple" || u.EnaSupport() {
		t.Fatalf("after a restart: %s %+v, %s %+v", got[0].ID, got[0].Described(), got[1].ID, got[1].Described())
	}
}
