// Package amicatalog is the one list of the Amazon machine images vpcsim
// knows by name: the images AWS's public SSM parameters point at (the
// ECS-optimized Amazon Linux images, the latest Amazon Linux ones), with what
// EC2's DescribeImages tells of them. The SSM Parameter Store answers its
// public parameters from it; EC2 is meant to describe the same images from it,
// so that an ID read from a parameter is an image EC2 knows. It imports
// nothing of either service.
//
// The IDs are vpcsim's own, fixed and well formed (ami- and 17 hex digits), as
// AWS's differ by region and change with every release: none is a real AMI.
package amicatalog

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// The accounts that own the images, as EC2 reports them.
const (
	OwnerECS         = "591542846629" // amazon: the ECS-optimized AMIs
	OwnerAmazonLinux = "137112412989" // amazon: the Amazon Linux AMIs
)

// Image is one machine image, as EC2 describes it.
type Image struct {
	ID           string
	Name         string
	Description  string
	Architecture string // x86_64
	OwnerID      string
	OwnerAlias   string // amazon
	CreationDate time.Time
	// RootDeviceName is the root volume's device (/dev/xvda); the root
	// device type is EBS, virtualization hvm, platform Linux/UNIX.
	RootDeviceName string
	// ECS is what the ECS-optimized image's SSM parameter tells beside the
	// image (nil for the others).
	ECS *ECSImage
}

// ECSImage is the ECS part of an ECS-optimized image's parameter value.
type ECSImage struct {
	OS                string // "Amazon Linux 2"
	Version           string // the image's version: 2.0.20241120
	AgentVersion      string // the ECS agent's
	RuntimeVersion    string // "Docker version 25.0.6"
	SourceImageName   string // the minimal image it was built on
	ParameterBasePath string // /aws/service/ecs/optimized-ami/amazon-linux-2
}

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var (
	// ECSAmazonLinux2 is the ECS-optimized Amazon Linux 2 image.
	ECSAmazonLinux2 = Image{
		ID: "ami-0e3f1d5a7c9b2e4f6", Name: "amzn2-ami-ecs-hvm-2.0.20241120-x86_64-ebs",
		Description:  "Amazon Linux AMI 2.0.20241120 x86_64 ECS HVM GP2",
		Architecture: "x86_64", OwnerID: OwnerECS, OwnerAlias: "amazon",
		CreationDate: day("2024-11-21T19:02:11Z"), RootDeviceName: "/dev/xvda",
		ECS: &ECSImage{OS: "Amazon Linux 2", Version: "2.0.20241120", AgentVersion: "1.89.1",
			RuntimeVersion: "Docker version 25.0.6", SourceImageName: "amzn2-ami-minimal-hvm-2.0.20241113.1-x86_64-ebs",
			ParameterBasePath: "/aws/service/ecs/optimized-ami/amazon-linux-2"},
	}
	// ECSAmazonLinux2023 is the ECS-optimized Amazon Linux 2023 image.
	ECSAmazonLinux2023 = Image{
		ID: "ami-0a7c2e9b4d6f1a3c5", Name: "al2023-ami-ecs-hvm-2023.0.20241120-kernel-6.1-x86_64",
		Description:  "Amazon Linux AMI 2023.0.20241120 x86_64 ECS HVM EBS",
		Architecture: "x86_64", OwnerID: OwnerECS, OwnerAlias: "amazon",
		CreationDate: day("2024-11-21T19:10:43Z"), RootDeviceName: "/dev/xvda",
		ECS: &ECSImage{OS: "Amazon Linux 2023", Version: "2023.0.20241120", AgentVersion: "1.89.1",
			RuntimeVersion: "Docker version 25.0.6", SourceImageName: "al2023-ami-minimal-2023.6.20241111.0-kernel-6.1-x86_64",
			ParameterBasePath: "/aws/service/ecs/optimized-ami/amazon-linux-2023"},
	}
	// AmazonLinux2023 is the latest Amazon Linux 2023 image (default kernel).
	AmazonLinux2023 = Image{
		ID: "ami-0b5d8f2a6c4e9b1d7", Name: "al2023-ami-2023.6.20241111.0-kernel-6.1-x86_64",
		Description:  "Amazon Linux 2023 AMI 2023.6.20241111.0 x86_64 HVM kernel-6.1",
		Architecture: "x86_64", OwnerID: OwnerAmazonLinux, OwnerAlias: "amazon",
		CreationDate: day("2024-11-12T18:47:33Z"), RootDeviceName: "/dev/xvda",
	}
	// AmazonLinux2 is the latest Amazon Linux 2 image (HVM, gp2).
	AmazonLinux2 = Image{
		ID: "ami-0c9e4b7d1f3a5c8e2", Name: "amzn2-ami-hvm-2.0.20241113.1-x86_64-gp2",
		Description:  "Amazon Linux 2 AMI 2.0.20241113.1 x86_64 HVM gp2",
		Architecture: "x86_64", OwnerID: OwnerAmazonLinux, OwnerAlias: "amazon",
		CreationDate: day("2024-11-14T01:15:20Z"), RootDeviceName: "/dev/xvda",
	}
)

// Images lists every image of the catalogue.
func Images() []Image {
	return []Image{ECSAmazonLinux2, ECSAmazonLinux2023, AmazonLinux2023, AmazonLinux2}
}

// Lookup returns the image of an ID.
func Lookup(id string) (Image, bool) {
	for _, im := range Images() {
		if im.ID == id {
			return im, true
		}
	}
	return Image{}, false
}

// PublicParameter is one of AWS's public SSM parameters that name an image.
type PublicParameter struct {
	Name  string // /aws/service/…
	Value string
}

// PublicParameters lists the public SSM parameters of the catalogue's images,
// sorted by name: the ECS-optimized images' "recommended" parameter (a JSON
// document, as AWS's) and each of its fields as a parameter of its own below
// it, and the latest Amazon Linux images' parameters (the image ID).
func PublicParameters() []PublicParameter {
	var ps []PublicParameter
	for _, im := range []Image{ECSAmazonLinux2, ECSAmazonLinux2023} {
		e := im.ECS
		base := e.ParameterBasePath + "/recommended"
		fields := []PublicParameter{
			{"ecs_agent_version", e.AgentVersion},
			{"ecs_runtime_version", e.RuntimeVersion},
			{"image_id", im.ID},
			{"image_name", im.Name},
			{"image_version", e.Version},
			{"os", e.OS},
			{"schema_version", "1"},
			{"source_image_name", e.SourceImageName},
		}
		// AWS's document: its fields in alphabetical order, compact,
		// schema_version a number.
		doc := map[string]any{"schema_version": 1}
		for _, f := range fields {
			if f.Name != "schema_version" {
				doc[f.Name] = f.Value
			}
		}
		b, err := json.Marshal(doc) // map keys are sorted
		if err != nil {
			panic(err)
		}
		ps = append(ps, PublicParameter{base, string(b)})
		for _, f := range fields {
			ps = append(ps, PublicParameter{base + "/" + f.Name, f.Value})
		}
	}
	ps = append(ps,
		PublicParameter{"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", AmazonLinux2023.ID},
		// The same image by its kernel's version, as AWS names it too.
		PublicParameter{"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64", AmazonLinux2023.ID},
		PublicParameter{"/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2", AmazonLinux2.ID},
	)
	slices.SortFunc(ps, func(a, b PublicParameter) int { return strings.Compare(a.Name, b.Name) })
	return ps
}
