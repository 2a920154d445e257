package ec2query

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel/netmodeltest"
)

// FuzzHandler sends arbitrary parameters to every implemented action, each to a
// fresh Cloud (so one input's resources cannot slow the next): whatever the input,
// the answer is an EC2 response or client error, never a server fault.
func FuzzHandler(f *testing.F) {
	for _, seed := range []string{
		"CidrBlock=10.0.0.0/16",
		"CidrBlock=10.0.0.0/33&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=aws:x",
		"VpcId=vpc-1&CidrBlock=10.0.1.0/24&AvailabilityZone=us-west-2z",
		"GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=70000&IpPermissions.1.ToPort=-5",
		"ImageId=ami-1&MinCount=3&MaxCount=1&NetworkInterface.1.DeviceIndex=7",
		"Filter.1.Name=tag:&Filter.1.Value.1=*?\\&MaxResults=5",
		"NetworkInterfaceId=eni-zz&PrivateIpAddress.1=999.1.1.1&SecondaryPrivateIpAddressCount=-1",
		"ResourceId.1=&Tag.1.Key=",
		"Attribute=userData&InstanceId=i-",
	} {
		f.Add(uint8(0), seed)
	}
	names := Implemented()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, which uint8, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		c, err := ec2sim.New(context.Background(), vpcsim.NewMemStore(), netmodeltest.NewFakeDataplane())
		if err != nil {
			t.Fatal(err)
		}
		h := NewHandler(c, log)
		q.Set("Action", names[int(which)%len(names)])
		q.Set("Version", "2016-11-15")
		r := httptest.NewRequest("POST", "/", strings.NewReader(q.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", signed)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		c.Wait()
		if w.Code >= http.StatusInternalServerError {
			t.Fatalf("%s %s: HTTP %d %s", q.Get("Action"), query, w.Code, w.Body)
		}
	})
}
