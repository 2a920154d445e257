package ec2query

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

type decodeTestRequest struct {
	dryRunParam
	pageParams
	VpcIDs   []string            `query:"VpcId"`
	Filters  []filterParam       `query:"Filter"`
	Specs    []tagSpecParam      `query:"TagSpecification"`
	Perms    []ipPermissionParam `query:"IpPermissions"`
	Count    int                 `query:"Count"`
	Port     *int32              `query:"Port"`
	Flag     *bool               `query:"Flag"`
	Name     string              `query:"Name"`
	Place    *placementParam     `query:"Placement"`
	_        ignored             `query:"ClientToken"`
	internal string              // no tag: never decoded
}

func i32(v int32) *int32 { return &v }
func ptr[T any](v T) *T  { return &v }

func TestDecode(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		want        decodeTestRequest
		wantUnknown []string
		wantErr     *decodeError
	}{
		{name: "empty", query: "", want: decodeTestRequest{}},
		{
			name:  "scalars",
			query: "DryRun=true&Count=3&Port=-1&Flag=FALSE&Name=a+b%26c&MaxResults=5&NextToken=tok",
			want: decodeTestRequest{dryRunParam: dryRunParam{DryRun: true}, Count: 3, Port: i32(-1), Flag: ptr(false),
				Name: "a b&c", pageParams: pageParams{MaxResults: ptr(5), NextToken: ptr("tok")}},
		},
		{
			name:  "list in index order, sparse, numeric",
			query: "VpcId.10=j&VpcId.2=b&VpcId.1=a",
			want:  decodeTestRequest{VpcIDs: []string{"a", "b", "j"}},
		},
		{
			name:  "filters",
			query: "Filter.1.Name=tag:Name&Filter.1.Value.1=x&Filter.1.Value.2=y*&Filter.2.Name=vpc-id&Filter.2.Value.1=vpc-1",
			want: decodeTestRequest{Filters: []filterParam{
				{Name: "tag:Name", Values: []string{"x", "y*"}},
				{Name: "vpc-id", Values: []string{"vpc-1"}},
			}},
		},
		{
			name:  "tag specifications",
			query: "TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=v&TagSpecification.1.Tag.2.Key=empty",
			want:  decodeTestRequest{Specs: []tagSpecParam{{ResourceType: "vpc", Tags: []tagParam{{Key: "Name", Value: "v"}, {Key: "empty"}}}}},
		},
		{
			name:  "ip permissions",
			query: "IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0&IpPermissions.1.Groups.1.GroupId=sg-1&IpPermissions.1.Groups.1.Description=d",
			want: decodeTestRequest{Perms: []ipPermissionParam{{
				IPProtocol: "tcp", FromPort: i32(22), ToPort: i32(22),
				IPRanges:         []ipRangeParam{{CidrIP: "0.0.0.0/0"}},
				UserIDGroupPairs: []userIDGroupParams{{GroupID: "sg-1", Description: "d"}},
			}}},
		},
		{name: "nested struct", query: "Placement.AvailabilityZone=us-west-2a", want: decodeTestRequest{Place: &placementParam{AvailabilityZone: "us-west-2a"}}},
		{name: "ignored parameter", query: "ClientToken=abc&ClientToken.x=1", want: decodeTestRequest{}},
		{name: "repeated key keeps the first value", query: "Name=first&Name=second", want: decodeTestRequest{Name: "first"}},
		{name: "untagged field is not a key", query: "internal=x", wantUnknown: []string{"internal"}},
		{name: "unknown top-level", query: "Bogus=1&Name=n", want: decodeTestRequest{Name: "n"}, wantUnknown: []string{"Bogus"}},
		{name: "unknown nested", query: "Filter.1.Name=a&Filter.1.Bogus=b", want: decodeTestRequest{Filters: []filterParam{{Name: "a"}}}, wantUnknown: []string{"Filter.1.Bogus"}},
		{name: "list without index", query: "VpcId=vpc-1", want: decodeTestRequest{VpcIDs: []string{}}, wantUnknown: []string{"VpcId"}},
		{name: "index 0", query: "VpcId.0=a&VpcId.1=b", want: decodeTestRequest{VpcIDs: []string{"b"}}, wantUnknown: []string{"VpcId.0"}},
		{name: "negative index", query: "VpcId.-1=a", want: decodeTestRequest{VpcIDs: []string{}}, wantUnknown: []string{"VpcId.-1"}},
		{name: "plus index", query: "VpcId.%2B1=a", want: decodeTestRequest{VpcIDs: []string{}}, wantUnknown: []string{"VpcId.+1"}},
		{name: "huge index", query: "VpcId.99999999999999999999=a", want: decodeTestRequest{VpcIDs: []string{}}, wantUnknown: []string{"VpcId.99999999999999999999"}},
		{name: "non-numeric index", query: "Filter.x.Name=a", want: decodeTestRequest{Filters: []filterParam{}}, wantUnknown: []string{"Filter.x.Name"}},
		{name: "scalar with a suffix", query: "DryRun.1=true", wantUnknown: []string{"DryRun.1"}},
		{name: "structure given a value", query: "Placement=x", want: decodeTestRequest{Place: &placementParam{}}, wantUnknown: []string{"Placement"}},
		{name: "empty segment", query: "Filter..Name=a&Name.=b&.Name=c", wantUnknown: []string{".Name", "Filter..Name", "Name."}},
		{name: "bad integer", query: "Count=abc", wantErr: &decodeError{Key: "Count", Value: "abc", Expected: "Integer"}},
		{name: "int32 overflow", query: "Port=2147483648", want: decodeTestRequest{Port: i32(0)}, wantErr: &decodeError{Key: "Port", Value: "2147483648", Expected: "Integer"}},
		{name: "bad boolean", query: "DryRun=yes", wantErr: &decodeError{Key: "DryRun", Value: "yes", Expected: "Boolean"}},
		{name: "bad nested integer", query: "IpPermissions.1.FromPort=x", want: decodeTestRequest{Perms: []ipPermissionParam{{FromPort: i32(0)}}},
			wantErr: &decodeError{Key: "IpPermissions.1.FromPort", Value: "x", Expected: "Integer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			var got decodeTestRequest
			unknown, err := decode(q, &got)
			if !reflect.DeepEqual(unknown, tt.wantUnknown) {
				t.Errorf("unknown = %q, want %q", unknown, tt.wantUnknown)
			}
			if tt.wantErr != nil {
				var de *decodeError
				if !errors.As(err, &de) || *de != *tt.wantErr {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decoded\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecodeWantsStructPointer(t *testing.T) {
	var s string
	if _, err := decode(url.Values{}, &s); err == nil {
		t.Error("decode into *string succeeded")
	}
	if _, err := decode(url.Values{}, decodeTestRequest{}); err == nil {
		t.Error("decode into a struct value succeeded")
	}
}

func TestModelPattern(t *testing.T) {
	for in, want := range map[string]string{
		"Filter.12.Value.3":                     "Filter.N.Value.N",
		"VpcId":                                 "VpcId",
		"IpPermissions.1.Ipv6Ranges.2.CidrIpv6": "IpPermissions.N.Ipv6Ranges.N.CidrIpv6",
		"A..B":                                  "A..B",
	} {
		if got := modelPattern(in); got != want {
			t.Errorf("modelPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQueryPaths(t *testing.T) {
	got := strings.Join(queryPaths(reflect.TypeFor[createVpcRequest]()), " ")
	want := "AmazonProvidedIpv6CidrBlock CidrBlock DryRun InstanceTenancy Ipv6CidrBlock Ipv6CidrBlockNetworkBorderGroup Ipv6IpamPoolId Ipv6NetmaskLength Ipv6Pool TagSpecification.N.ResourceType TagSpecification.N.Tag.N.Key TagSpecification.N.Tag.N.Value"
	if got != want {
		t.Errorf("queryPaths(createVpcRequest) = %q, want %q", got, want)
	}
}

// FuzzDecode feeds arbitrary query strings to every implemented request type:
// decode must never panic, and must account for every key (decoded, unknown, or
// the one bad value it reports).
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"Filter.1.Name=tag:Name&Filter.1.Value.1=x",
		"VpcId.1=vpc-1&VpcId.99999999999=x&VpcId.0=y",
		"IpPermissions.1.Groups.1.GroupId=sg-1&IpPermissions.1.FromPort=-1",
		"NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.SecurityGroupId.1=sg-1",
		"TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.1.Value=b",
		"MaxResults=5&NextToken=abc&DryRun=true",
		"A..B=1&.=2&..=3&Placement=x&Placement.AvailabilityZone.1=z",
		"MinCount=9223372036854775808&MaxCount=-0",
		"Description.Value=x&SourceDestCheck.Value=maybe",
	} {
		f.Add(seed)
	}
	names := Implemented()
	f.Fuzz(func(t *testing.T, query string) {
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		for _, name := range names {
			req := reflect.New(actions[name].req).Interface()
			unknown, _ := decode(q, req)
			for _, k := range unknown {
				if _, ok := q[k]; !ok {
					t.Fatalf("%s: unknown key %q is not a key of the query", name, k)
				}
			}
			// The dispatcher's error mapping must hold for whatever decode says.
			_ = decodeRequest(name, q, reflect.New(actions[name].req).Interface())
		}
	})
}
