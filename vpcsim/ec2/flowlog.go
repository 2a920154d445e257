package ec2

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// kindFlowLog is the store's document kind of flow logs.
const kindFlowLog = "ec2.flow-log"

// DefaultFlowLogFormat is the record format (version 2) of a flow log created
// without a LogFormat.
const DefaultFlowLogFormat = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}"

// Flow log resource types (CreateFlowLogs ResourceType).
const (
	FlowLogVPC    = "VPC"
	FlowLogSubnet = "Subnet"
	FlowLogENI    = "NetworkInterface"
)

// flowLogState is the Cloud's share of flow logs: the model, guarded by
// Cloud.mu, and the recorder that turns packets into records, with a lock of
// its own so that the dataplane never waits for the model.
type flowLogState struct {
	rec flowRecorder
}

// flowLogSinksLocked lists the flow logs that capture an ENI's traffic: those
// of the ENI itself, of its subnet and of its VPC.
func (c *Cloud) flowLogSinksLocked(e *ENI) []netmodel.FlowLogSink {
	var out []netmodel.FlowLogSink
	for _, f := range c.flowLogsOfLocked(e) {
		out = append(out, netmodel.FlowLogSink{ID: f.ID, TrafficType: f.TrafficType})
	}
	return out
}

// flowLogsOfLocked lists the flow logs capturing an ENI, by ID, so that the
// firewall built from them is the same whenever the model is.
func (c *Cloud) flowLogsOfLocked(e *ENI) []*FlowLog {
	var out []*FlowLog
	for f := range c.allFlowLogs() {
		if f.ResourceID == e.ID || f.ResourceID == e.SubnetID || f.ResourceID == e.VPCID {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *FlowLog) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// dropFlowLogsLocked deletes the flow logs of a resource that is being deleted,
// as EC2 does with a VPC's, a subnet's or an ENI's.
func (c *Cloud) dropFlowLogsLocked(resourceID string) {
	m := c.model()
	for _, f := range slices.Collect(m.flowLogs.All()) {
		if f.ResourceID == resourceID {
			m.flowLogs.Delete(f.ID)
		}
	}
}

// CreateFlowLogsInput is CreateFlowLogs's request.
type CreateFlowLogsInput struct {
	ResourceIDs              []string
	ResourceType             string
	TrafficType              string
	LogDestinationType       string // "" = cloud-watch-logs
	LogDestination           string
	LogGroupName             string
	DeliverLogsPermissionArn string
	LogFormat                *string // nil = DefaultFlowLogFormat
	MaxAggregationInterval   *int    // nil = 600
	Tags                     []Tag
	ClientToken              string
}

// CreateFlowLogsResult is CreateFlowLogs's answer: the flow logs made, and the
// resources none could be made for.
type CreateFlowLogsResult struct {
	ClientToken  string
	FlowLogIDs   []string
	Unsuccessful []UnsuccessfulItem
}

// UnsuccessfulItem is one resource an operation over many did not act on, and why.
type UnsuccessfulItem struct {
	ResourceID string
	Error      *APIError
}

// CreateFlowLogs makes one flow log per resource. A request that breaks a rule
// of its own is refused as a whole; a resource that does not exist, or already
// has a flow log to the same destination, is named in Unsuccessful while the
// others get theirs. A retry with the same ClientToken answers the flow logs
// the first call made.
func (c *Cloud) CreateFlowLogs(ctx context.Context, s Scope, in CreateFlowLogsInput) (CreateFlowLogsResult, error) {
	spec, err := c.checkFlowLogInput(s, &in)
	if err != nil {
		return CreateFlowLogsResult{}, err
	}
	if err := c.lock(ctx, s); err != nil {
		return CreateFlowLogsResult{}, err
	}
	defer c.unlock()
	token := in.ClientToken
	if token == "" {
		token = newClientToken()
	} else if ids, err := c.flowLogsOfTokenLocked(s, token, spec.fingerprint); err != nil || ids != nil {
		return CreateFlowLogsResult{ClientToken: token, FlowLogIDs: ids}, err
	}
	out := CreateFlowLogsResult{ClientToken: token, FlowLogIDs: []string{}}
	for _, id := range in.ResourceIDs {
		if err := c.flowLogResourceLocked(s, in.ResourceType, id); err != nil {
			out.Unsuccessful = append(out.Unsuccessful, unsuccessful(id, err))
			continue
		}
		if c.flowLogExistsLocked(id, spec.log) {
			out.Unsuccessful = append(out.Unsuccessful, unsuccessful(id, Errorf("FlowLogAlreadyExists",
				"Error. There is an existing Flow Log with the same configuration and log destination.")))
			continue
		}
		if err := c.checkQuota(quota.FlowLogs, 1+countWhere(c.allFlowLogs(), func(f *FlowLog) bool { return f.Region == s.Region })); err != nil {
			out.Unsuccessful = append(out.Unsuccessful, unsuccessful(id, err))
			continue
		}
		f := spec.log
		f.ID, f.Region, f.OwnerID, f.ResourceID = newID("fl"), s.Region, c.account, id
		f.CreationTime, f.Seq, f.Tags = c.now().UTC(), c.nextSeq(), slices.Clone(in.Tags)
		if in.ClientToken != "" {
			f.ClientToken, f.Request = in.ClientToken, spec.fingerprint
		}
		c.model().flowLogs.Put(&f)
		out.FlowLogIDs = append(out.FlowLogIDs, f.ID)
	}
	if !c.model().tx.Changed() {
		return out, nil
	}
	if err := c.commitLocked(); err != nil {
		return CreateFlowLogsResult{}, err
	}
	return out, nil
}

func unsuccessful(id string, err error) UnsuccessfulItem {
	e, ok := AsAPIError(err)
	if !ok {
		e = Errorf("InternalError", "An internal error has occurred.")
	}
	return UnsuccessfulItem{ResourceID: id, Error: e}
}

// newClientToken makes the token CreateFlowLogs answers with when the request
// has none, as EC2 makes one.
func newClientToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// flowLogsOfTokenLocked finds what an earlier request with the same client
// token made: nil when there was none, its flow logs when it asked the same,
// IdempotentParameterMismatch when it asked something else.
func (c *Cloud) flowLogsOfTokenLocked(s Scope, token, fingerprint string) ([]string, error) {
	var ids []string
	for _, f := range sortedBySeq(c.allFlowLogs(), func(f *FlowLog) int64 { return f.Seq }) {
		if f.Region != s.Region || f.ClientToken != token {
			continue
		}
		if f.Request != fingerprint {
			// (unverified) EC2's wording of this refusal for RunInstances.
			return nil, Errorf("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
		}
		ids = append(ids, f.ID)
	}
	return ids, nil
}

// flowLogResourceLocked checks that a resource to be flow-logged exists, with
// the refusal its own Describe gives. Transit gateways and NAT gateways are
// never found: vpcsim has none.
func (c *Cloud) flowLogResourceLocked(s Scope, typ, id string) error {
	var err error
	switch typ {
	case FlowLogVPC:
		_, err = c.vpcLocked(s, id)
	case FlowLogSubnet:
		_, err = c.subnetLocked(s, id)
	case FlowLogENI:
		_, err = c.eniLocked(s, id)
	case "TransitGateway":
		err = Errorf("InvalidTransitGatewayID.NotFound", "Transit Gateway %s was deleted or does not exist.", id)
	case "TransitGatewayAttachment":
		err = Errorf("InvalidTransitGatewayAttachmentID.NotFound", "Transit Gateway Attachment %s was deleted or does not exist.", id)
	default: // RegionalNatGateway; (unverified) wording
		err = Errorf("NatGatewayNotFound", "Nat gateway %s was not found", id)
	}
	return err
}

// flowLogExistsLocked reports whether a resource already has a flow log to the
// same destination.
func (c *Cloud) flowLogExistsLocked(resourceID string, want FlowLog) bool {
	for f := range c.allFlowLogs() {
		if f.ResourceID == resourceID && f.LogDestinationType == want.LogDestinationType &&
			f.LogDestination == want.LogDestination && f.LogGroupName == want.LogGroupName {
			return true
		}
	}
	return false
}

// DescribeFlowLogs lists the region's flow logs: those named (names that match
// none are no error), filtered.
func (c *Cloud) DescribeFlowLogs(ctx context.Context, s Scope, ids []string, f []Filter) ([]FlowLog, error) {
	named := map[string]bool{}
	for _, id := range ids {
		named[id] = true
	}
	return describeFiltered(ctx, c, s, f, func() ([]FlowLog, error) {
		failed := c.flowLogs.rec.deliveryErrors()
		var out []FlowLog
		for _, fl := range sortedBySeq(c.allFlowLogs(), func(f *FlowLog) int64 { return f.Seq }) {
			if fl.Region != s.Region || (len(ids) > 0 && !named[fl.ID]) {
				continue
			}
			cp := *fl
			cp.Tags = slices.Clone(fl.Tags)
			cp.DeliverLogsError = failed[fl.ID]
			out = append(out, cp)
		}
		return out, nil
	}, func(f *FlowLog) []Tag { return f.Tags }, flowLogFilter)
}

// DeliverLogsStatus is the flow log's delivery status as EC2 reports it.
func (f *FlowLog) DeliverLogsStatus() string {
	if f.DeliverLogsError != "" {
		return "FAILED"
	}
	return "SUCCESS"
}

func flowLogFilter(f *FlowLog, name string) ([]string, bool) {
	switch name {
	case "deliver-log-status":
		return []string{f.DeliverLogsStatus()}, true
	case "log-destination-type":
		return []string{f.LogDestinationType}, true
	case "flow-log-id":
		return []string{f.ID}, true
	case "log-group-name":
		return []string{f.LogGroupName}, true
	case "resource-id":
		return []string{f.ResourceID}, true
	case "traffic-type":
		return []string{f.TrafficType}, true
	}
	return nil, false
}

// DeleteFlowLogs deletes flow logs; those that do not exist are named in the
// answer, the others are deleted all the same. Records of their last capture
// window that are not written yet are not written.
func (c *Cloud) DeleteFlowLogs(ctx context.Context, s Scope, ids []string) ([]UnsuccessfulItem, error) {
	if len(ids) == 0 {
		// What EC2 answers for an empty FlowLogId list.
		return nil, invalidValue("1 validation error detected: Value null at 'flowLogId' has an invalid format")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	out := []UnsuccessfulItem{}
	for _, id := range ids {
		f := c.flowLog(id)
		if f == nil || f.Region != s.Region {
			// (unverified) the message; the code is EC2's.
			out = append(out, UnsuccessfulItem{ResourceID: id, Error: notFound("InvalidFlowLogId.NotFound", "flow log", id)})
			continue
		}
		c.model().flowLogs.Delete(id)
	}
	if !c.model().tx.Changed() {
		return out, nil
	}
	if err := c.commitLocked(); err != nil {
		return nil, err
	}
	return out, nil
}

// requestFingerprint identifies what a CreateFlowLogs request asked, to tell a
// retry from another request with the same client token.
func requestFingerprint(s Scope, in CreateFlowLogsInput) string {
	in.ClientToken = ""
	b, _ := json.Marshal(struct {
		Region string
		In     CreateFlowLogsInput
	}{s.Region, in})
	return string(b)
}
