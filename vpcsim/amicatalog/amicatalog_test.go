package amicatalog

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestImages(t *testing.T) {
	id := regexp.MustCompile(`^ami-[0-9a-f]{17}$`)
	seen := map[string]bool{}
	for _, im := range Images() {
		if !id.MatchString(im.ID) || seen[im.ID] {
			t.Errorf("%s: ID malformed or taken twice", im.ID)
		}
		seen[im.ID] = true
		if im.Architecture != "x86_64" || im.RootDeviceName != "/dev/xvda" || im.OwnerAlias != "amazon" || im.CreationDate.IsZero() {
			t.Errorf("%s: %+v", im.ID, im)
		}
		if got, ok := Lookup(im.ID); !ok || got.Name != im.Name {
			t.Errorf("Lookup(%s) = %v, %v", im.ID, got, ok)
		}
	}
}

func TestPublicParameters(t *testing.T) {
	ps := PublicParameters()
	names := make([]string, len(ps))
	values := map[string]string{}
	for i, p := range ps {
		names[i] = p.Name
		values[p.Name] = p.Value
	}
	if !slices.IsSorted(names) {
		t.Errorf("not sorted: %v", names)
	}
	for _, want := range []string{
		"/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id",
		"/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
		"/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
	} {
		if _, ok := Lookup(values[want]); !ok {
			t.Errorf("%s = %q, not an image of the catalogue", want, values[want])
		}
	}
	var doc struct {
		ImageID       string `json:"image_id"`
		SchemaVersion int    `json:"schema_version"`
		OS            string `json:"os"`
	}
	v := values["/aws/service/ecs/optimized-ami/amazon-linux-2/recommended"]
	if err := json.Unmarshal([]byte(v), &doc); err != nil || doc.ImageID != ECSAmazonLinux2.ID || doc.SchemaVersion != 1 || doc.OS != "Amazon Linux 2" {
		t.Errorf("recommended = %s (%v)", v, err)
	}
	if !strings.HasPrefix(v, `{"ecs_agent_version":`) {
		t.Errorf("recommended's fields are not in AWS's order: %s", v)
	}
}
