package ec2

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// flowField is one field a flow log record can hold: the flow log version that
// introduced it, and its value in a record.
type flowField struct {
	version int
	// fromPackets says the value comes from the packets, so a record that
	// stands for no packets (SKIPDATA) shows "-", as AWS's do.
	fromPackets bool
	value       func(l *flowLine) string
}

// dash is AWS's value for a field that does not apply or cannot be known.
func dash(*flowLine) string { return "-" }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// flowFields are the fields of AWS's "Available fields" table, by name.
// vpcsim knows no AWS services, sublocations, ECS task of an ENI, Block
// Public Access or encryption, so those fields are "-"; it sees no TCP flags
// in the packets it is told of, so tcp-flags is 0, AWS's value when none were
// recorded.
var flowFields = map[string]flowField{
	"version":      {2, false, func(l *flowLine) string { return strconv.Itoa(l.version) }},
	"account-id":   {2, false, func(l *flowLine) string { return l.eni.OwnerID }},
	"interface-id": {2, false, func(l *flowLine) string { return l.eni.ID }},
	"srcaddr":      {2, true, func(l *flowLine) string { return l.srcaddr().String() }},
	"dstaddr":      {2, true, func(l *flowLine) string { return l.dstaddr().String() }},
	"srcport":      {2, true, func(l *flowLine) string { return strconv.Itoa(int(l.key.SrcPort)) }},
	"dstport":      {2, true, func(l *flowLine) string { return strconv.Itoa(int(l.key.DstPort)) }},
	"protocol":     {2, true, func(l *flowLine) string { return strconv.Itoa(int(l.key.Proto)) }},
	"packets":      {2, true, func(l *flowLine) string { return strconv.FormatInt(l.agg.Packets, 10) }},
	"bytes":        {2, true, func(l *flowLine) string { return strconv.FormatInt(l.agg.Bytes, 10) }},
	"start":        {2, false, func(l *flowLine) string { return strconv.FormatInt(l.agg.Start.Unix(), 10) }},
	"end":          {2, false, func(l *flowLine) string { return strconv.FormatInt(l.agg.End.Unix(), 10) }},
	"action":       {2, true, func(l *flowLine) string { return action(l.key.Accept) }},
	"log-status":   {2, false, func(l *flowLine) string { return l.status }},

	"vpc-id":      {3, false, func(l *flowLine) string { return l.eni.VPCID }},
	"subnet-id":   {3, false, func(l *flowLine) string { return l.eni.SubnetID }},
	"instance-id": {3, false, func(l *flowLine) string { return orDash(l.eni.InstanceID) }},
	"tcp-flags":   {3, true, func(*flowLine) string { return "0" }},
	"type": {3, true, func(l *flowLine) string {
		if l.key.Src.Is6() {
			return "IPv6"
		}
		return "IPv4"
	}},
	"pkt-srcaddr": {3, true, func(l *flowLine) string { return l.key.Src.String() }},
	"pkt-dstaddr": {3, true, func(l *flowLine) string { return l.key.Dst.String() }},

	"region":           {4, false, func(l *flowLine) string { return l.region }},
	"az-id":            {4, false, func(l *flowLine) string { return orDash(l.eni.AZID) }},
	"sublocation-type": {4, false, dash},
	"sublocation-id":   {4, false, dash},

	"pkt-src-aws-service": {5, true, dash},
	"pkt-dst-aws-service": {5, true, dash},
	"flow-direction":      {5, true, func(l *flowLine) string { return l.direction() }},
	// traffic-path is for egress only: 1 is "through another resource in the
	// same VPC"; vpcsim has no gateways for the other paths.
	"traffic-path": {5, true, func(l *flowLine) string {
		if !l.ingress() && slices.ContainsFunc(l.eni.VPCCIDRs, func(p netip.Prefix) bool { return p.Contains(l.key.Dst) }) {
			return "1"
		}
		return "-"
	}},

	"ecs-cluster-arn":            {7, false, dash},
	"ecs-cluster-name":           {7, false, dash},
	"ecs-container-instance-arn": {7, false, dash},
	"ecs-container-instance-id":  {7, false, dash},
	"ecs-container-id":           {7, false, dash},
	"ecs-second-container-id":    {7, false, dash},
	"ecs-service-name":           {7, false, dash},
	"ecs-task-definition-arn":    {7, false, dash},
	"ecs-task-arn":               {7, false, dash},
	"ecs-task-id":                {7, false, dash},

	"reject-reason": {8, true, dash},
	// (unverified) the versions of the two newest fields.
	"resource-id":       {9, false, dash},
	"encryption-status": {10, true, dash},
}

func action(accept bool) string {
	if accept {
		return "ACCEPT"
	}
	return "REJECT"
}

// flowFormat is a parsed LogFormat: its fields in order, and the record version
// they make (the highest version among them).
type flowFormat struct {
	fields  []string
	version int
}

// parseFlowFormat reads a LogFormat: "${field}" tokens separated by single
// spaces, at least one. Anything else is refused with the text EC2 answers for
// a format with a trailing space (verified); that it answers the same for an
// unknown field name is unverified.
func parseFlowFormat(s string) (flowFormat, error) {
	invalid := invalidValue("1 validation error detected: Value '%s' at 'logFormat' has an invalid format", s)
	var f flowFormat
	for _, tok := range strings.Split(s, " ") {
		name, ok := strings.CutPrefix(tok, "${")
		name, closed := strings.CutSuffix(name, "}")
		field, known := flowFields[name]
		if !ok || !closed || !known {
			return flowFormat{}, invalid
		}
		f.fields = append(f.fields, name)
		f.version = max(f.version, field.version)
	}
	return f, nil
}

// header is the line of field names that starts a file of records, as the
// first line of AWS's S3 log files does.
func (f flowFormat) header() string { return strings.Join(f.fields, " ") }

// flowLine is one record being written: one flow of one ENI in one capture
// window, in one flow log's format.
type flowLine struct {
	version int
	region  string
	eni     *flowENI
	key     flowKey
	agg     flowAgg
	status  string // OK, or SKIPDATA for the packets a window had no room for
}

// render writes the record in format f.
func (l *flowLine) render(f flowFormat) string {
	var b strings.Builder
	for i, name := range f.fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		field := flowFields[name]
		if field.fromPackets && l.status != "OK" {
			b.WriteByte('-')
			continue
		}
		b.WriteString(field.value(l))
	}
	return b.String()
}

// ingress says the packets were sent to the ENI rather than by it.
func (l *flowLine) ingress() bool { return slices.Contains(l.eni.Addrs, l.key.Dst) }

func (l *flowLine) direction() string {
	if l.ingress() {
		return "ingress"
	}
	return "egress"
}

// srcaddr and dstaddr put the ENI's primary address where AWS does for
// IPv4: as the destination of all its ingress traffic (secondary addresses
// included), and as the source of egress traffic sent from an address that
// is not its own. IPv6 traffic keeps its addresses, as pkt-srcaddr and
// pkt-dstaddr keep the packets' own.
func (l *flowLine) srcaddr() netip.Addr {
	if !l.ingress() && !slices.Contains(l.eni.Addrs, l.key.Src) && l.key.Src.Is4() && l.eni.primary().IsValid() {
		return l.eni.primary()
	}
	return l.key.Src
}

func (l *flowLine) dstaddr() netip.Addr {
	if l.ingress() && l.key.Dst.Is4() && l.eni.primary().IsValid() {
		return l.eni.primary()
	}
	return l.key.Dst
}
