package ec2

import (
	"context"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/amicatalog"
)

// The catalogue's images are described in every region, public and
// Amazon's; an account registers and deregisters its own, with EC2's
// refusals; unknown and malformed IDs are refused as EC2 refuses them.
func TestImageRules(t *testing.T) {
	tc := newTestCloud(t)
	ctx := context.Background()
	ecs := amicatalog.ECSAmazonLinux2023
	got := must[[]Image](t)(tc.DescribeImages(ctx, west, []string{ecs.ID}, nil, nil, nil))
	if len(got) != 1 || !got[0].Public || got[0].OwnerAlias != "amazon" || got[0].RootDeviceName != "/dev/xvda" || got[0].Devices[0].Size != 30 {
		t.Fatalf("the ECS-optimized image: %+v", got)
	}
	amazon := must[[]Image](t)(tc.DescribeImages(ctx, west, nil, []string{"amazon"}, nil, []Filter{{Name: "name", Values: []string{"al2023-ami-ecs-*"}}}))
	if len(amazon) != 1 || amazon[0].ID != ecs.ID {
		t.Fatalf("Amazon's images named al2023-ami-ecs-*: %+v", amazon)
	}
	_, err := tc.DescribeImages(ctx, west, []string{"ami-0123456789abcdef0"}, nil, nil, nil)
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = tc.DescribeImages(ctx, west, []string{"ami-zz"}, nil, nil, nil)
	wantCode(t, err, "InvalidAMIID.Malformed")

	_, err = tc.RegisterImage(ctx, west, RegisterImageInput{Name: "x"})
	wantCode(t, err, "InvalidParameterValue")
	_, err = tc.RegisterImage(ctx, west, RegisterImageInput{Name: "mine", Architecture: "sparc"})
	wantCode(t, err, "InvalidParameterValue")
	_, err = tc.RegisterImage(ctx, west, RegisterImageInput{Name: "mine", BlockDevices: []BlockDeviceInput{{DeviceName: "/dev/xvda", EBS: &EBSInput{SnapshotID: "snap-0123456789abcdef0"}}}})
	wantCode(t, err, "InvalidSnapshot.NotFound")
	id := must[string](t)(tc.RegisterImage(ctx, west, RegisterImageInput{Name: "mine", Tags: []Tag{{Key: "team", Value: "a"}}}))
	_, err = tc.RegisterImage(ctx, west, RegisterImageInput{Name: "mine"})
	wantCode(t, err, "InvalidAMIName.Duplicate")
	own := must[[]Image](t)(tc.DescribeImages(ctx, west, nil, []string{"self"}, nil, []Filter{{Name: "tag:team", Values: []string{"a"}}}))
	if len(own) != 1 || own[0].ID != id || own[0].Architecture != "x86_64" || len(own[0].Devices) != 1 || own[0].Devices[0].Size != 8 {
		t.Fatalf("own images: %+v", own)
	}
	if _, err := tc.DescribeImages(ctx, Scope{Region: "us-east-1"}, []string{id}, nil, nil, nil); err == nil {
		t.Error("an image registered in us-west-2 is described in us-east-1")
	}
	wantCode(t, tc.DeregisterImage(ctx, west, ecs.ID), "AuthFailure")
	if err := tc.DeregisterImage(ctx, west, id); err != nil {
		t.Fatal(err)
	}
	_, err = tc.DescribeImageAttribute(ctx, west, id, "description")
	wantCode(t, err, "InvalidAMIID.NotFound")
	_, err = tc.DescribeImageAttribute(ctx, west, ecs.ID, "colour")
	wantCode(t, err, "InvalidParameterValue")
}

// With the image check, RunInstances launches the catalogue's images and
// registered ones, and refuses others as EC2 does, making nothing; without
// it, any well-formed image ID launches.
func TestRunInstancesImageCheck(t *testing.T) {
	ctx := context.Background()
	for _, check := range []bool{true, false} {
		var opts []Option
		if check {
			opts = append(opts, WithImageCheck())
		}
		tc := newTestCloud(t, opts...)
		sub := tc.subnet(t, tc.vpc(t, "10.0.0.0/16").ID, "10.0.1.0/24")
		run := func(image string) error {
			_, err := tc.RunInstances(ctx, west, RunInstancesInput{ImageID: image, InstanceType: "t3.micro", MinCount: 1, MaxCount: 1, SubnetID: sub.ID})
			return err
		}
		mine := must[string](t)(tc.RegisterImage(ctx, west, RegisterImageInput{Name: "mine"}))
		for _, id := range []string{amicatalog.ECSAmazonLinux2023.ID, mine} {
			if err := run(id); err != nil {
				t.Errorf("check %v: RunInstances of %s: %v", check, id, err)
			}
		}
		err := run("ami-abcd1234")
		if !check {
			if err != nil {
				t.Errorf("without the check, a made-up image: %v", err)
			}
			continue
		}
		wantCode(t, err, "InvalidAMIID.NotFound")
		if e, _ := AsAPIError(err); e.Message != "The image id '[ami-abcd1234]' does not exist" {
			t.Errorf("message %q", e.Message)
		}
		if n := len(must[[]Instance](t)(tc.DescribeInstances(ctx, west, nil, nil))); n != 2 {
			t.Errorf("%d instances after a refused launch, want 2", n)
		}
	}
}
