package ecsapi

import (
	"context"
	"crypto/rand"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// Service deployments and service revisions: ECS's record of each rollout
// (ListServiceDeployments, DescribeServiceDeployments, StopServiceDeployment)
// and of what each deployment runs (DescribeServiceRevisions). Terraform's
// wait_for_steady_state follows a service deployment to SUCCESSFUL.

// svcDeployment is one service deployment: the rollout of a deployment
// (DepID, ecs-svc/…), to its revision.
type svcDeployment struct {
	ID       string                            `json:"id"` // the last part of its ARN
	DepID    string                            `json:"deployment"`
	Status   ecstypes.ServiceDeploymentStatus  `json:"status"`
	Reason   string                            `json:"reason,omitempty"`
	Created  *ecstypes.Timestamp               `json:"created"`
	Finished *ecstypes.Timestamp               `json:"finished,omitempty"`
	Stopped  *ecstypes.Timestamp               `json:"stopped,omitempty"`
	Updated  *ecstypes.Timestamp               `json:"updated"`
	Sources  []string                          `json:"sources,omitempty"` // the revisions it replaces
	Config   *ecstypes.DeploymentConfiguration `json:"config,omitempty"`
	Rollback *ecstypes.Rollback                `json:"rollback,omitempty"`
	Revision ecstypes.ServiceRevision          `json:"revision"`
}

// historyKept is how many service deployments a service keeps.
const historyKept = 50

// deploymentIDChars are those of a service deployment's ID.
const deploymentIDChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

func newServiceDeploymentID() string {
	b := make([]byte, 21)
	rand.Read(b)
	for i := range b {
		b[i] = deploymentIDChars[int(b[i])%len(deploymentIDChars)]
	}
	return string(b)
}

// revisionARN is the ARN of the service revision a deployment runs: the
// deployment's digits, as Terraform expects to find them.
func (s *Service) revisionARN(r *svcRec, depID string) string {
	return s.arn(Scope{Region: r.Region}, "service-revision/"+r.clusterName()+"/"+r.name()+"/"+strings.TrimPrefix(depID, "ecs-svc/"))
}

func (s *Service) serviceDeploymentARN(r *svcRec, id string) string {
	return s.arn(Scope{Region: r.Region}, "service-deployment/"+r.clusterName()+"/"+r.name()+"/"+id)
}

func (r *svcRec) clusterName() string {
	return r.ClusterARN[strings.LastIndexByte(r.ClusterARN, '/')+1:]
}

// recordDeployment adds the service deployment of r's new PRIMARY
// deployment; one still in progress is STOPPED by it.
func (s *Service) recordDeployment(m *model, r *svcRec) {
	now := ecstypes.NewTimestamp(s.now())
	d := r.primary()
	for i := range r.History {
		if h := &r.History[i]; h.Status == ecstypes.ServiceDeploymentStatusInProgress {
			h.Status, h.Reason, h.Stopped, h.Updated = ecstypes.ServiceDeploymentStatusStopped, "Service deployment was superseded by a newer deployment.", now, now
		}
	}
	var sources []string
	for _, old := range r.S.Deployments[1:] {
		sources = append(sources, s.revisionARN(r, deref(old.Id)))
	}
	rev := ecstypes.ServiceRevision{
		ServiceRevisionArn: str(s.revisionARN(r, deref(d.Id))), ServiceArn: r.S.ServiceArn, ClusterArn: r.S.ClusterArn,
		TaskDefinition: d.TaskDefinition, CapacityProviderStrategy: d.CapacityProviderStrategy, LaunchType: d.LaunchType,
		PlatformVersion: d.PlatformVersion, PlatformFamily: d.PlatformFamily, LoadBalancers: []ecstypes.LoadBalancer{},
		ServiceRegistries: []ecstypes.ServiceRegistry{}, NetworkConfiguration: d.NetworkConfiguration,
		GuardDutyEnabled: ecstypes.Ptr(false), CreatedAt: now, ContainerImages: []ecstypes.ContainerImage{},
	}
	if td, _ := m.taskDefs.Get(deref(d.TaskDefinition)); td != nil {
		for _, c := range td.TD.ContainerDefinitions {
			rev.ContainerImages = append(rev.ContainerImages, ecstypes.ContainerImage{ContainerName: c.Name, Image: c.Image})
		}
	}
	r.History = append(r.History, svcDeployment{
		ID: newServiceDeploymentID(), DepID: deref(d.Id), Status: ecstypes.ServiceDeploymentStatusInProgress,
		Created: now, Updated: now, Sources: sources, Config: r.S.DeploymentConfiguration, Revision: rev,
	})
	if len(r.History) > historyKept {
		r.History = r.History[len(r.History)-historyKept:]
	}
}

// current is the service's newest service deployment (nil before any).
func (r *svcRec) current() *svcDeployment {
	if len(r.History) == 0 {
		return nil
	}
	return &r.History[len(r.History)-1]
}

// deploymentCompleted records what became of the current service deployment
// when its deployment completed (or its rollback did).
func (s *Service) deploymentCompleted(r *svcRec) {
	h := r.current()
	if h == nil {
		return
	}
	now := ecstypes.NewTimestamp(s.now())
	switch h.Status {
	case ecstypes.ServiceDeploymentStatusInProgress:
		h.Status, h.Finished, h.Updated = ecstypes.ServiceDeploymentStatusSuccessful, now, now
	case ecstypes.ServiceDeploymentStatusRollbackInProgress, ecstypes.ServiceDeploymentStatusRollbackRequested:
		h.Status, h.Finished, h.Updated = ecstypes.ServiceDeploymentStatusRollbackSuccessful, now, now
	}
}

// deploymentFailed records the circuit breaker's verdict on the current
// service deployment: rolled back to target ("": not rolled back, STOPPED).
func (s *Service) deploymentFailed(r *svcRec, target string) {
	h := r.current()
	if h == nil {
		return
	}
	now := ecstypes.NewTimestamp(s.now())
	h.Updated = now
	if target == "" {
		h.Status, h.Reason, h.Stopped = ecstypes.ServiceDeploymentStatusStopped, "ECS deployment circuit breaker: tasks failed to start.", now
		return
	}
	h.Status, h.Reason = ecstypes.ServiceDeploymentStatusRollbackInProgress, "ECS deployment circuit breaker: tasks failed to start."
	h.Rollback = &ecstypes.Rollback{Reason: str("Circuit Breaker"), StartedAt: now, ServiceRevisionArn: str(s.revisionARN(r, target))}
}

// renderServiceDeployment answers a service deployment with its revisions'
// task counts as they are.
func (s *Service) renderServiceDeployment(m *model, r *svcRec, h *svcDeployment) ecstypes.ServiceDeployment {
	svc := s.renderServiceLocked(m, r, false)
	byRevision := map[string]ecstypes.Deployment{}
	for _, d := range svc.Deployments {
		byRevision[s.revisionARN(r, deref(d.Id))] = d
	}
	summary := func(arn string) ecstypes.ServiceRevisionSummary {
		d := byRevision[arn] // zero counts: none of its tasks is left
		return ecstypes.ServiceRevisionSummary{Arn: str(arn), RequestedTaskCount: ecstypes.Ptr(deref(d.DesiredCount)),
			RunningTaskCount: ecstypes.Ptr(deref(d.RunningCount)), PendingTaskCount: ecstypes.Ptr(deref(d.PendingCount))}
	}
	target := deref(h.Revision.ServiceRevisionArn)
	out := ecstypes.ServiceDeployment{
		ServiceDeploymentArn: str(s.serviceDeploymentARN(r, h.ID)), ServiceArn: r.S.ServiceArn, ClusterArn: r.S.ClusterArn,
		CreatedAt: h.Created, StartedAt: h.Created, FinishedAt: h.Finished, StoppedAt: h.Stopped, UpdatedAt: h.Updated,
		SourceServiceRevisions: []ecstypes.ServiceRevisionSummary{}, TargetServiceRevision: ecstypes.Ptr(summary(target)),
		Status: h.Status, DeploymentConfiguration: h.Config, Rollback: h.Rollback,
	}
	if h.Reason != "" {
		out.StatusReason = str(h.Reason)
	}
	for _, src := range h.Sources {
		out.SourceServiceRevisions = append(out.SourceServiceRevisions, summary(src))
	}
	if cb := h.Config.DeploymentCircuitBreaker; cb != nil {
		status := ecstypes.ServiceDeploymentRollbackMonitorsStatusDisabled
		switch {
		case !deref(cb.Enable):
		case h.Rollback != nil || h.Reason != "":
			status = ecstypes.ServiceDeploymentRollbackMonitorsStatusTriggered
		case h.Status == ecstypes.ServiceDeploymentStatusInProgress:
			status = ecstypes.ServiceDeploymentRollbackMonitorsStatusMonitoring
		default:
			status = ecstypes.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete
		}
		out.DeploymentCircuitBreaker = &ecstypes.ServiceDeploymentCircuitBreaker{Status: status,
			FailureCount: ecstypes.Ptr(deref(byRevision[target].FailedTasks)), Threshold: ecstypes.Ptr(int32(breakerThreshold(int(deref(r.S.DesiredCount)))))}
	}
	return out
}

// serviceOfARN finds the service a service deployment's or revision's ARN
// names (…:KIND/CLUSTER/SERVICE/ID), and the ID.
func (s *Service) serviceOfARN(m *model, sc Scope, kind, arn string) (*svcRec, string) {
	prefix := s.arn(sc, kind+"/")
	parts := strings.Split(strings.TrimPrefix(arn, prefix), "/")
	if !strings.HasPrefix(arn, prefix) || len(parts) != 3 {
		return nil, ""
	}
	r, _ := m.services.Get(s.arn(sc, "service/"+parts[0]+"/"+parts[1]))
	return r, parts[2]
}

// ListServiceDeployments lists a service's service deployments, newest
// first, with the filters ECS has.
func (s *Service) ListServiceDeployments(ctx context.Context, sc Scope, in *ecstypes.ListServiceDeploymentsRequest) (*ecstypes.ListServiceDeploymentsResponse, error) {
	s.mu.Lock()
	m := s.begin()
	r, err := s.namedServiceLocked(m, sc, in.Cluster, in.Service)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var briefs []ecstypes.ServiceDeploymentBrief
	for _, h := range slices.Backward(r.History) {
		switch c := in.CreatedAt; {
		case len(in.Status) > 0 && !slices.Contains(in.Status, h.Status),
			c != nil && c.Before != nil && !h.Created.Time().Before(c.Before.Time()),
			c != nil && c.After != nil && !h.Created.Time().After(c.After.Time()):
			continue
		}
		brief := ecstypes.ServiceDeploymentBrief{ServiceDeploymentArn: str(s.serviceDeploymentARN(r, h.ID)), ServiceArn: r.S.ServiceArn,
			ClusterArn: r.S.ClusterArn, StartedAt: h.Created, CreatedAt: h.Created, FinishedAt: h.Finished,
			TargetServiceRevisionArn: h.Revision.ServiceRevisionArn, Status: h.Status}
		if h.Reason != "" {
			brief.StatusReason = str(h.Reason)
		}
		briefs = append(briefs, brief)
	}
	s.mu.Unlock()
	limit := in.MaxResults
	if limit == nil {
		limit = ecstypes.Ptr(int32(20))
	}
	p, next, err := page(briefs, limit, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ecstypes.ListServiceDeploymentsResponse{ServiceDeployments: nonNil(p), NextToken: next}, nil
}

// DescribeServiceDeployments answers up to 20 service deployments by ARN;
// unknown ones are MISSING.
func (s *Service) DescribeServiceDeployments(ctx context.Context, sc Scope, in *ecstypes.DescribeServiceDeploymentsRequest) (*ecstypes.DescribeServiceDeploymentsResponse, error) {
	if len(in.ServiceDeploymentArns) == 0 || len(in.ServiceDeploymentArns) > 20 {
		return nil, invalidParam("serviceDeploymentArns must have between 1 and 20 items.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	out := &ecstypes.DescribeServiceDeploymentsResponse{ServiceDeployments: []ecstypes.ServiceDeployment{}, Failures: []ecstypes.Failure{}}
	for _, arn := range in.ServiceDeploymentArns {
		r, id := s.serviceOfARN(m, sc, "service-deployment", arn)
		i := -1
		if r != nil {
			i = slices.IndexFunc(r.History, func(h svcDeployment) bool { return h.ID == id })
		}
		if i < 0 {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: str(arn), Reason: str("MISSING")})
			continue
		}
		out.ServiceDeployments = append(out.ServiceDeployments, s.renderServiceDeployment(m, r, &r.History[i]))
	}
	return out, nil
}

// DescribeServiceRevisions answers up to 20 service revisions by ARN;
// unknown ones are MISSING.
func (s *Service) DescribeServiceRevisions(ctx context.Context, sc Scope, in *ecstypes.DescribeServiceRevisionsRequest) (*ecstypes.DescribeServiceRevisionsResponse, error) {
	if len(in.ServiceRevisionArns) == 0 || len(in.ServiceRevisionArns) > 20 {
		return nil, invalidParam("serviceRevisionArns must have between 1 and 20 items.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	out := &ecstypes.DescribeServiceRevisionsResponse{ServiceRevisions: []ecstypes.ServiceRevision{}, Failures: []ecstypes.Failure{}}
	for _, arn := range in.ServiceRevisionArns {
		r, _ := s.serviceOfARN(m, sc, "service-revision", arn)
		var rev *ecstypes.ServiceRevision
		if r != nil {
			for i := range r.History {
				if deref(r.History[i].Revision.ServiceRevisionArn) == arn {
					rev = &r.History[i].Revision
				}
			}
		}
		if rev == nil {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: str(arn), Reason: str("MISSING")})
			continue
		}
		out.ServiceRevisions = append(out.ServiceRevisions, *rev)
	}
	return out, nil
}

// StopServiceDeployment stops a service deployment in progress by rolling
// the service back to the last deployment that completed (stopType
// ROLLBACK, the one ECS offers for its rolling deployments).
func (s *Service) StopServiceDeployment(ctx context.Context, sc Scope, in *ecstypes.StopServiceDeploymentRequest) (*ecstypes.StopServiceDeploymentResponse, error) {
	if in.StopType == ecstypes.StopServiceDeploymentStopTypeAbort {
		return nil, invalidParam("The stop type ABORT is not valid for a service deployment of the ECS deployment controller: use ROLLBACK.")
	}
	arn := deref(in.ServiceDeploymentArn)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	r, id := s.serviceOfARN(m, sc, "service-deployment", arn)
	i := -1
	if r != nil {
		i = slices.IndexFunc(r.History, func(h svcDeployment) bool { return h.ID == id })
	}
	switch {
	case i < 0:
		return nil, &Error{Type: "ServiceDeploymentNotFoundException", Message: "The service deployment " + arn + " was not found."}
	case r.History[i].Status != ecstypes.ServiceDeploymentStatusInProgress || i != len(r.History)-1 || r.status() != serviceActive:
		return nil, &Error{Type: "ConflictException", Message: "The service deployment " + arn + " is not in progress."}
	case r.LastCompleted == nil || deref(r.LastCompleted.Id) == r.History[i].DepID:
		return nil, &Error{Type: "ConflictException", Message: "The service has no earlier deployment that completed to roll back to."}
	}
	r, _ = m.services.Edit(*r.S.ServiceArn)
	target := deref(r.LastCompleted.Id)
	prim := r.primary()
	prim.RolloutState, prim.RolloutStateReason = ecstypes.DeploymentRolloutStateFailed, str("ECS deployment "+deref(prim.Id)+" stopped.")
	h := r.current()
	now := ecstypes.NewTimestamp(s.now())
	h.Status, h.Reason, h.Updated = ecstypes.ServiceDeploymentStatusRollbackInProgress, "Service deployment rolled back by StopServiceDeployment.", now
	h.Rollback = &ecstypes.Rollback{Reason: str("StopServiceDeployment"), StartedAt: now, ServiceRevisionArn: str(s.revisionARN(r, target))}
	s.rollBack(r, "ECS deployment stopped: rolling back to deploymentId "+target+".")
	s.addEvents(r, rollbackEvent(r.name(), target))
	if err := s.commit(m); err != nil {
		return nil, err
	}
	return &ecstypes.StopServiceDeploymentResponse{ServiceDeploymentArn: &arn}, nil
}
