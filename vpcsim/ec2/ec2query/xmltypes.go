package ec2query

import ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"

// Output shapes several operations share. Element names are the model's
// locationNames; see render.go for set and timestamp.

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

func tagSet(ts []ec2sim.Tag) set[tagXML] {
	out := make(set[tagXML], 0, len(ts))
	for _, t := range ts {
		out = append(out, tagXML{Key: t.Key, Value: t.Value})
	}
	return out
}

// groupIdentifierXML is a GroupIdentifier: a security group by ID and name.
type groupIdentifierXML struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

// attrBoolXML is an AttributeBooleanValue.
type attrBoolXML struct {
	Value bool `xml:"value"`
}

// attrValueXML is an AttributeValue; an empty value renders as an empty element,
// which clients read as {} — as AWS answers for an attribute that is not set.
type attrValueXML struct {
	Value string `xml:"value,omitempty"`
}

// operatorXML is OperatorResponse: vpcsim's resources are never service-managed
// in the Operator sense.
type operatorXML struct {
	Managed bool `xml:"managed"`
}

// blockPublicAccessXML is BlockPublicAccessStates; VPC Block Public Access is off.
type blockPublicAccessXML struct {
	InternetGatewayBlockMode string `xml:"internetGatewayBlockMode"`
}

func bpaOff() *blockPublicAccessXML { return &blockPublicAccessXML{InternetGatewayBlockMode: "off"} }

// returnResponse answers operations whose model output is only Return, and those
// the model gives no output at all (DeleteVpc, …): EC2 answers those with
// <return>true</return> too, which clients ignore.
type returnResponse struct {
	responseMeta
	Return bool `xml:"return"`
}

func returnTrue() *returnResponse { return &returnResponse{Return: true} }

func arn(s ec2sim.Scope, account, resource string) string {
	return "arn:aws:ec2:" + s.Region + ":" + account + ":" + resource
}
