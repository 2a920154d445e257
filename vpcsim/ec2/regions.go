package ec2

// Region is one EC2 region.
type Region struct {
	Name        string
	Endpoint    string
	OptInStatus string
}

// AvailabilityZone is one zone of a region.
type AvailabilityZone struct {
	Name               string // us-west-2a
	ZoneID             string // usw2-az1
	Region             string
	State              string
	ZoneType           string
	GroupName          string
	NetworkBorderGroup string
}

// regionCodes are the regions vpcsim serves, with the short code AWS uses in zone IDs.
var regionCodes = []struct{ name, code string }{
	{"af-south-1", "afs1"}, {"ap-east-1", "ape1"}, {"ap-northeast-1", "apne1"},
	{"ap-northeast-2", "apne2"}, {"ap-northeast-3", "apne3"}, {"ap-south-1", "aps1"},
	{"ap-south-2", "aps2"}, {"ap-southeast-1", "apse1"}, {"ap-southeast-2", "apse2"},
	{"ap-southeast-3", "apse3"}, {"ap-southeast-4", "apse4"}, {"ca-central-1", "cac1"},
	{"eu-central-1", "euc1"}, {"eu-central-2", "euc2"}, {"eu-north-1", "eun1"},
	{"eu-south-1", "eus1"}, {"eu-south-2", "eus2"}, {"eu-west-1", "euw1"},
	{"eu-west-2", "euw2"}, {"eu-west-3", "euw3"}, {"il-central-1", "ilc1"},
	{"me-central-1", "mec1"}, {"me-south-1", "mes1"}, {"sa-east-1", "sae1"},
	{"us-east-1", "use1"}, {"us-east-2", "use2"}, {"us-west-1", "usw1"}, {"us-west-2", "usw2"},
}

// Regions lists the regions vpcsim serves.
func Regions() []Region {
	out := make([]Region, 0, len(regionCodes))
	for _, r := range regionCodes {
		out = append(out, Region{Name: r.name, Endpoint: "ec2." + r.name + ".amazonaws.com", OptInStatus: "opt-in-not-required"})
	}
	return out
}

// KnownRegion reports whether vpcsim serves a region: EC2 and ECS refuse
// any other.
func KnownRegion(name string) bool { return regionCode(name) != "" }

func regionCode(name string) string {
	for _, r := range regionCodes {
		if r.name == name {
			return r.code
		}
	}
	return ""
}

// zoneLetters are the zones every region has here.
var zoneLetters = []string{"a", "b", "c"}

// AvailabilityZones lists a region's zones: a, b and c, with zone IDs az1…az3.
func AvailabilityZones(region string) []AvailabilityZone {
	code := regionCode(region)
	if code == "" {
		return nil
	}
	out := make([]AvailabilityZone, 0, len(zoneLetters))
	for i, l := range zoneLetters {
		out = append(out, AvailabilityZone{
			Name: region + l, ZoneID: code + "-az" + string(rune('1'+i)), Region: region,
			State: "available", ZoneType: "availability-zone", GroupName: region, NetworkBorderGroup: region,
		})
	}
	return out
}

// zoneOf resolves a zone given by name or ID in a region; ok is false if it is not one of them.
func zoneOf(region, name, id string) (AvailabilityZone, bool) {
	for _, z := range AvailabilityZones(region) {
		if (name != "" && z.Name == name) || (name == "" && z.ZoneID == id) {
			if name != "" && id != "" && z.ZoneID != id {
				return AvailabilityZone{}, false
			}
			return z, true
		}
	}
	return AvailabilityZone{}, false
}
