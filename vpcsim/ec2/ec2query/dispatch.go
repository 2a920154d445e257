// Package ec2query serves the EC2 Query protocol (API version 2016-11-15): form
// parameters in, XML out. It is protocol only: it parses a request, calls the
// domain (package ec2) and renders the answer or the error exactly as EC2 would.
// Business rules live in the domain.
//
// The reference for every parameter and element name is botocore's EC2 model;
// model_gen.go holds what this package needs of it.
package ec2query

//go:generate python3 testdata/genmodel.py

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// DefaultMaxBody bounds a request body. EC2's own limit is far above what any
// request of the implemented operations needs.
const DefaultMaxBody = 1 << 20

// Handler serves EC2 Query requests for one Cloud. Create it with NewHandler.
type Handler struct {
	cloud    *ec2sim.Cloud
	log      *slog.Logger
	verifier sigv4.Verifier
	maxBody  int64
	now      func() time.Time
}

// Option configures a Handler.
type Option func(*Handler)

// WithVerifier makes the handler check every request's SigV4 signature with v
// before acting on it; unsigned or badly signed requests are refused as EC2
// (see errAuth), or STS (awsproto.QueryAuthError), refuses them.
func WithVerifier(v sigv4.Verifier) Option { return func(h *Handler) { h.verifier = v } }

// WithMaxBody sets the largest request body accepted (default DefaultMaxBody).
func WithMaxBody(n int64) Option { return func(h *Handler) { h.maxBody = n } }

// NewHandler returns the http.Handler of the EC2 Query API and of STS's
// GetCallerIdentity, which clients call on the same endpoint, routed between
// the two as vpcsim's listener routes them (APIs, package awsproto). It
// serves POST form bodies and GET query strings, as EC2 does.
func NewHandler(c *ec2sim.Cloud, log *slog.Logger, opts ...Option) http.Handler {
	ec2 := newHandler(c, log, opts...)
	q, err := awsproto.NewQuery(ec2.maxBody, routes(ec2)...)
	if err != nil {
		panic(err) // the table is this package's own
	}
	return q
}

// APIs are the entries of the Query APIs this package serves for a router's
// table: EC2 (the default: its older clients send no Version) and STS.
func APIs(c *ec2sim.Cloud, log *slog.Logger, opts ...Option) []awsproto.QueryAPI {
	return routes(newHandler(c, log, opts...))
}

// newHandler returns EC2's handler.
func newHandler(c *ec2sim.Cloud, log *slog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = slog.Default()
	}
	h := &Handler{cloud: c, log: log, maxBody: DefaultMaxBody, now: time.Now}
	for _, o := range opts {
		o(h)
	}
	return h
}

// routes are EC2's route and STS's, STS configured as EC2 is.
func routes(ec2 *Handler) []awsproto.QueryAPI {
	return []awsproto.QueryAPI{
		{Service: "ec2", Version: apiVersion, Default: true, Handler: ec2, Door: ec2Door{}},
		newSTS(ec2.cloud, ec2.log, ec2.verifier, ec2.maxBody).API(),
	}
}

// action is one entry of the dispatch table: serve gets the request's parameters
// (without Action, Version and signature parameters) and returns the response;
// req is the request type, so tests can check its keys against the model.
type action struct {
	serve func(ctx context.Context, h *Handler, s ec2sim.Scope, name string, params url.Values) (response, error)
	req   reflect.Type
}

// actions is the dispatch table: every implemented EC2 operation.
var actions map[string]action

func init() {
	actions = map[string]action{
		"DescribeRegions":           op((*Handler).describeRegions),
		"DescribeAvailabilityZones": op((*Handler).describeAvailabilityZones),
		"DescribeAccountAttributes": op((*Handler).describeAccountAttributes),

		"CreateVpc":            op((*Handler).createVpc),
		"DescribeVpcs":         op((*Handler).describeVpcs),
		"DeleteVpc":            op((*Handler).deleteVpc),
		"ModifyVpcAttribute":   op((*Handler).modifyVpcAttribute),
		"DescribeVpcAttribute": op((*Handler).describeVpcAttribute),

		"CreateSubnet":          op((*Handler).createSubnet),
		"DescribeSubnets":       op((*Handler).describeSubnets),
		"DeleteSubnet":          op((*Handler).deleteSubnet),
		"ModifySubnetAttribute": op((*Handler).modifySubnetAttribute),

		"CreateSecurityGroup":           op((*Handler).createSecurityGroup),
		"DescribeSecurityGroups":        op((*Handler).describeSecurityGroups),
		"DeleteSecurityGroup":           op((*Handler).deleteSecurityGroup),
		"AuthorizeSecurityGroupIngress": op((*Handler).authorizeIngress),
		"AuthorizeSecurityGroupEgress":  op((*Handler).authorizeEgress),
		"RevokeSecurityGroupIngress":    op((*Handler).revokeIngress),
		"RevokeSecurityGroupEgress":     op((*Handler).revokeEgress),
		"DescribeSecurityGroupRules":    op((*Handler).describeSecurityGroupRules),

		"CreateNetworkInterface":          op((*Handler).createNetworkInterface),
		"DescribeNetworkInterfaces":       op((*Handler).describeNetworkInterfaces),
		"DeleteNetworkInterface":          op((*Handler).deleteNetworkInterface),
		"ModifyNetworkInterfaceAttribute": op((*Handler).modifyNetworkInterfaceAttribute),
		"AssignPrivateIpAddresses":        op((*Handler).assignPrivateIPAddresses),
		"UnassignPrivateIpAddresses":      op((*Handler).unassignPrivateIPAddresses),
		"AttachNetworkInterface":          op((*Handler).attachNetworkInterface),
		"DetachNetworkInterface":          op((*Handler).detachNetworkInterface),

		"RunInstances":                         op((*Handler).runInstances),
		"DescribeInstances":                    op((*Handler).describeInstances),
		"TerminateInstances":                   op((*Handler).terminateInstances),
		"StopInstances":                        op((*Handler).stopInstances),
		"StartInstances":                       op((*Handler).startInstances),
		"RebootInstances":                      op((*Handler).rebootInstances),
		"DescribeInstanceAttribute":            op((*Handler).describeInstanceAttribute),
		"ModifyInstanceAttribute":              op((*Handler).modifyInstanceAttribute),
		"DescribeInstanceStatus":               op((*Handler).describeInstanceStatus),
		"ModifyInstanceMetadataOptions":        op((*Handler).modifyInstanceMetadataOptions),
		"DescribeInstanceCreditSpecifications": op((*Handler).describeInstanceCreditSpecifications),
		"ModifyInstanceCreditSpecification":    op((*Handler).modifyInstanceCreditSpecification),
		"DescribeVolumes":                      op((*Handler).describeVolumes),
		"DescribeInstanceTypes":                op((*Handler).describeInstanceTypes),

		"CreateDhcpOptions":    op((*Handler).createDhcpOptions),
		"AssociateDhcpOptions": op((*Handler).associateDhcpOptions),
		"DeleteDhcpOptions":    op((*Handler).deleteDhcpOptions),
		"DescribeDhcpOptions":  op((*Handler).describeDhcpOptions),

		"CreateKeyPair":    op((*Handler).createKeyPair),
		"ImportKeyPair":    op((*Handler).importKeyPair),
		"DescribeKeyPairs": op((*Handler).describeKeyPairs),
		"DeleteKeyPair":    op((*Handler).deleteKeyPair),

		"UpdateSecurityGroupRuleDescriptionsIngress": op((*Handler).updateRuleDescriptionsIngress),
		"UpdateSecurityGroupRuleDescriptionsEgress":  op((*Handler).updateRuleDescriptionsEgress),
		"ModifySecurityGroupRules":                   op((*Handler).modifySecurityGroupRules),
		"GetSecurityGroupsForVpc":                    op((*Handler).getSecurityGroupsForVpc),
		"DescribeSecurityGroupReferences":            op((*Handler).describeSecurityGroupReferences),
		"DescribeStaleSecurityGroups":                op((*Handler).describeStaleSecurityGroups),

		"CreateRouteTable":             op((*Handler).createRouteTable),
		"DeleteRouteTable":             op((*Handler).deleteRouteTable),
		"AssociateRouteTable":          op((*Handler).associateRouteTable),
		"DisassociateRouteTable":       op((*Handler).disassociateRouteTable),
		"ReplaceRouteTableAssociation": op((*Handler).replaceRouteTableAssociation),
		"CreateRoute":                  op((*Handler).createRoute),
		"ReplaceRoute":                 op((*Handler).replaceRoute),
		"DeleteRoute":                  op((*Handler).deleteRoute),
		"DescribeRouteTables":          op((*Handler).describeRouteTables),

		"CreateInternetGateway":    op((*Handler).createInternetGateway),
		"AttachInternetGateway":    op((*Handler).attachInternetGateway),
		"DetachInternetGateway":    op((*Handler).detachInternetGateway),
		"DeleteInternetGateway":    op((*Handler).deleteInternetGateway),
		"DescribeInternetGateways": op((*Handler).describeInternetGateways),

		"CreateEgressOnlyInternetGateway":    op((*Handler).createEgressOnlyInternetGateway),
		"DeleteEgressOnlyInternetGateway":    op((*Handler).deleteEgressOnlyInternetGateway),
		"DescribeEgressOnlyInternetGateways": op((*Handler).describeEgressOnlyInternetGateways),

		"CreateNetworkAcl":             op((*Handler).createNetworkAcl),
		"DeleteNetworkAcl":             op((*Handler).deleteNetworkAcl),
		"CreateNetworkAclEntry":        op((*Handler).createNetworkAclEntry),
		"ReplaceNetworkAclEntry":       op((*Handler).replaceNetworkAclEntry),
		"DeleteNetworkAclEntry":        op((*Handler).deleteNetworkAclEntry),
		"ReplaceNetworkAclAssociation": op((*Handler).replaceNetworkAclAssociation),
		"DescribeNetworkAcls":          op((*Handler).describeNetworkAcls),

		"DescribeImages":         op((*Handler).describeImages),
		"DescribeImageAttribute": op((*Handler).describeImageAttribute),
		"RegisterImage":          op((*Handler).registerImage),
		"DeregisterImage":        op((*Handler).deregisterImage),

		"AssociateVpcCidrBlock":    op((*Handler).associateVpcCidrBlock),
		"DisassociateVpcCidrBlock": op((*Handler).disassociateVpcCidrBlock),

		"AssociateSubnetCidrBlock":    op((*Handler).associateSubnetCidrBlock),
		"DisassociateSubnetCidrBlock": op((*Handler).disassociateSubnetCidrBlock),
		"AssignIpv6Addresses":         op((*Handler).assignIpv6Addresses),
		"UnassignIpv6Addresses":       op((*Handler).unassignIpv6Addresses),

		"CreateVpcPeeringConnection":        op((*Handler).createVpcPeeringConnection),
		"AcceptVpcPeeringConnection":        op((*Handler).acceptVpcPeeringConnection),
		"RejectVpcPeeringConnection":        op((*Handler).rejectVpcPeeringConnection),
		"DeleteVpcPeeringConnection":        op((*Handler).deleteVpcPeeringConnection),
		"DescribeVpcPeeringConnections":     op((*Handler).describeVpcPeeringConnections),
		"ModifyVpcPeeringConnectionOptions": op((*Handler).modifyVpcPeeringConnectionOptions),

		"CreateLaunchTemplate":           op((*Handler).createLaunchTemplate),
		"CreateLaunchTemplateVersion":    op((*Handler).createLaunchTemplateVersion),
		"DescribeLaunchTemplates":        op((*Handler).describeLaunchTemplates),
		"DescribeLaunchTemplateVersions": op((*Handler).describeLaunchTemplateVersions),
		"ModifyLaunchTemplate":           op((*Handler).modifyLaunchTemplate),
		"DeleteLaunchTemplate":           op((*Handler).deleteLaunchTemplate),
		"DeleteLaunchTemplateVersions":   op((*Handler).deleteLaunchTemplateVersions),

		"CreateNatGateway":    op((*Handler).createNatGateway),
		"DeleteNatGateway":    op((*Handler).deleteNatGateway),
		"DescribeNatGateways": op((*Handler).describeNatGateways),

		"AllocateAddress":     op((*Handler).allocateAddress),
		"AssociateAddress":    op((*Handler).associateAddress),
		"DisassociateAddress": op((*Handler).disassociateAddress),
		"ReleaseAddress":      op((*Handler).releaseAddress),
		"DescribeAddresses":   op((*Handler).describeAddresses),

		"CreateFlowLogs":   op((*Handler).createFlowLogs),
		"DescribeFlowLogs": op((*Handler).describeFlowLogs),
		"DeleteFlowLogs":   op((*Handler).deleteFlowLogs),

		"CreateManagedPrefixList":          op((*Handler).createManagedPrefixList),
		"DescribeManagedPrefixLists":       op((*Handler).describeManagedPrefixLists),
		"GetManagedPrefixListEntries":      op((*Handler).getManagedPrefixListEntries),
		"GetManagedPrefixListAssociations": op((*Handler).getManagedPrefixListAssociations),
		"ModifyManagedPrefixList":          op((*Handler).modifyManagedPrefixList),
		"RestoreManagedPrefixListVersion":  op((*Handler).restoreManagedPrefixListVersion),
		"DeleteManagedPrefixList":          op((*Handler).deleteManagedPrefixList),
		"DescribePrefixLists":              op((*Handler).describePrefixLists),

		"CreateTags":   op((*Handler).createTags),
		"DeleteTags":   op((*Handler).deleteTags),
		"DescribeTags": op((*Handler).describeTags),
	}
}

// Implemented lists the EC2 operations vpcsim serves, sorted.
func Implemented() []string {
	names := make([]string, 0, len(actions))
	for name := range actions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ModelOperations lists every operation of the EC2 API (botocore's model), sorted;
// with Implemented it gives the coverage table.
func ModelOperations() []string {
	names := make([]string, 0, len(modelParams))
	for name := range modelParams {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// op makes a dispatch entry of a handler method. Every operation has the same
// shape: parse (decode, then validate and check paging) → DryRun → the handler,
// which calls the domain and builds the response.
func op[Req any, R response](fn func(*Handler, context.Context, ec2sim.Scope, *Req) (R, error)) action {
	serve := func(ctx context.Context, h *Handler, s ec2sim.Scope, name string, params url.Values) (response, error) {
		req := new(Req)
		if err := decodeRequest(name, params, req); err != nil {
			return nil, err
		}
		if v, ok := any(req).(interface{ validate() error }); ok {
			if err := v.validate(); err != nil {
				return nil, err
			}
		}
		if p, ok := any(req).(interface{ paging() *pageParams }); ok {
			if err := p.paging().check(name); err != nil {
				return nil, err
			}
		}
		if d, ok := any(req).(interface{ dryRun() bool }); ok && d.dryRun() {
			return nil, errDryRun()
		}
		return fn(h, ctx, s, req)
	}
	return action{serve: serve, req: reflect.TypeFor[Req]()}
}

// decodeRequest decodes params into req. A key the request type has no field for
// is refused: UnknownParameter when the EC2 model does not have it either (as EC2
// answers), UnsupportedOperation when it does and vpcsim does not implement it.
func decodeRequest(action string, params url.Values, req any) error {
	unknown, err := decode(params, req)
	if len(unknown) > 0 {
		allowed := modelKeys(action)
		for _, k := range unknown {
			if !allowed[modelPattern(k)] {
				return errUnknownParameter(k)
			}
		}
		return errUnsupportedParameter(unknown[0])
	}
	if err != nil {
		var de *decodeError
		if errors.As(err, &de) {
			return errTypedValue(de)
		}
		return err
	}
	return nil
}

// modelKeys is the set of keys the EC2 model allows for an operation.
func modelKeys(action string) map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(modelParams[action]) {
		m[k] = true
	}
	return m
}

// modelPattern writes a key as model_gen.go does: list indices become N. A
// segment of digits that is no index decode takes (0, or past int32) stays as it
// is, so such a key is an unknown parameter, not one vpcsim "does not support".
func modelPattern(key string) string {
	segs := strings.Split(key, ".")
	for i, s := range segs {
		if n, err := strconv.ParseInt(s, 10, 32); err == nil && n >= 1 && strings.Trim(s, "0123456789") == "" {
			segs[i] = "N"
		}
	}
	return strings.Join(segs, ".")
}

// apiVersion is the EC2 API version vpcsim serves.
const apiVersion = "2016-11-15"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	reqID := awsproto.NewRequestID()
	ctx := r.Context()
	defer func() {
		// A bug must answer InternalError, never leave the client with a dropped
		// connection; the stack goes to the log only.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(ctx, "panic serving a request", "requestId", reqID, "panic", v, "stack", string(debug.Stack()))
			awsproto.WriteXML(w, http.StatusInternalServerError, marshalError(awsproto.ErrInternal(), reqID))
		}
	}()
	params, payload, perr := h.readParams(w, r)
	act := params.Get("Action")

	var body []byte
	var err error
	if perr != nil {
		err = perr
	} else {
		body, err = h.serve(ctx, r, act, reqID, params, payload)
	}
	status := http.StatusOK
	if err != nil {
		e := toAPIError(ctx, h.log, act, err)
		status, body = e.Status, marshalError(e, reqID)
	}
	awsproto.WriteXML(w, status, body)
	h.log.DebugContext(ctx, "ec2query", "action", act, "status", status, "requestId", reqID, "took", h.now().Sub(start))
}

// serve answers one request: the body of a success, or the error to render.
func (h *Handler) serve(ctx context.Context, r *http.Request, act string, reqID string, params url.Values, payload []byte) ([]byte, error) {
	if h.verifier != nil {
		if err := sigv4.Authenticate(r, payload, h.verifier); err != nil {
			h.log.InfoContext(ctx, "signature refused", "err", err)
			return nil, errAuth(err)
		}
	}
	if act == "" {
		return nil, awsproto.ErrMissingAction()
	}
	version := params.Get("Version")
	params = awsproto.OperationParams(params)
	// EC2 has older API versions too, but vpcsim speaks 2016-11-15 only (every
	// current SDK and CLI sends it), so any other is refused rather than
	// answered in shapes the client did not ask for: one that is not even a
	// date as EC2 does, an older one as unsupported (EC2 would serve it). No
	// Version at all is let through, as the Query protocol's older clients
	// omit it.
	if version != "" && version != apiVersion {
		if _, err := time.Parse(time.DateOnly, version); err == nil {
			return nil, clientError("UnsupportedOperation", "vpcsim serves EC2 API version %s only, not %s.", apiVersion, version)
		}
		return nil, errNoSuchVersion(version)
	}
	fn, ok := actions[act]
	if !ok {
		if _, real := modelParams[act]; real {
			return nil, errUnsupportedOperation(act)
		}
		return nil, errInvalidAction(act)
	}
	s := ec2sim.Scope{Region: sigv4.Region(r, h.cloud.DefaultRegion())}
	resp, err := fn.serve(ctx, h, s, act, params)
	if err != nil {
		return nil, err
	}
	return marshalResponse(act, reqID, resp)
}

// readParams reads the request's parameters (awsproto.ReadQuery: the URL
// query, plus a form-encoded POST body, bounded by maxBody, which the router
// may have read already) and words what stops them as EC2 does
// (awsproto.ParamsError). The body bytes are returned for a Verifier.
func (h *Handler) readParams(w http.ResponseWriter, r *http.Request) (url.Values, []byte, *apiError) {
	p := awsproto.ReadQuery(w, r, h.maxBody)
	if e := awsproto.ParamsError(r, p, h.maxBody); e != nil {
		return p.Values, nil, e
	}
	return p.Values, p.Payload, nil
}
