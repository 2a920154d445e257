package ecsapi

import (
	"encoding/json"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	"github.com/vpcsim/vpcsim/vpcsim/quota"
)

// ECS's hard limits: part of the API, whatever the quotas.
const (
	// maxTaskDefinitionBytes bounds a task definition, measured as its JSON.
	maxTaskDefinitionBytes = 65536
	// maxContainerDefinitions bounds the containers of a task definition.
	maxContainerDefinitions = 10
	// maxOverrideBytes bounds a task's overrides, their JSON formatting included.
	maxOverrideBytes = 8192
)

// WithQuotas sets the bounds on what callers can make (default: the local
// profile); each is checked under the model lock, with the creation.
func WithQuotas(l quota.Limits) Option { return func(s *Service) { s.quotas = l } }

// quotaErr is a quota's refusal as ECS's exception.
func quotaErr(e *quota.Exceeded) error { return &Error{Type: e.Code, Message: e.Message} }

// jsonLength is how long v is as JSON, as ECS measures a task definition and
// overrides.
func jsonLength(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0 // shapes decoded from JSON always encode again
	}
	return len(b)
}

// checkTaskDefinitionSize refuses a task definition over ECS's 64 KiB, and
// returns its length.
func checkTaskDefinitionSize(in *ecstypes.RegisterTaskDefinitionRequest) (int, error) {
	if len(in.ContainerDefinitions) > maxContainerDefinitions {
		return 0, clientErr("Too many containers.")
	}
	n := jsonLength(in)
	if n > maxTaskDefinitionBytes {
		return n, clientErr("Actual length: '%d'. Max allowed length is '%d' bytes.", n, maxTaskDefinitionBytes)
	}
	return n, nil
}

// checkOverrides refuses overrides over ECS's 8192 characters.
func checkOverrides(o *ecstypes.TaskOverride) error {
	if o != nil && jsonLength(o) > maxOverrideBytes {
		return invalidParam("Container Overrides length must be at most %d", maxOverrideBytes)
	}
	return nil
}

// registerQuotaLocked checks a new revision of a family, of size bytes,
// against the revisions per family and the task definition bytes of the region.
func (s *Service) registerQuotaLocked(sc Scope, rev int32, size int) error {
	if e := s.quotas.Check(quota.RevisionsPerFamily, int(rev)); e != nil {
		return quotaErr(e)
	}
	if e := s.quotas.Check(quota.TaskDefinitionBytes, s.taskDefBytes[sc.Region]+size); e != nil {
		return quotaErr(e)
	}
	return nil
}

// taskQuotaLocked checks one more task of a launch type: every task the region
// holds counts (until it is forgotten, an hour after it stopped), and Fargate's
// running ones against Fargate's own bound. Its refusal is a RunTask failure.
func (s *Service) taskQuotaLocked(m *model, sc Scope, launch ecstypes.LaunchType) *quota.Exceeded {
	all, fargate := 1, 1
	for t := range m.tasks.All() {
		if t.Region != sc.Region {
			continue
		}
		all++
		if t.T.LaunchType == ecstypes.LaunchTypeFargate && t.status() != TaskStatusStopped {
			fargate++
		}
	}
	if e := s.quotas.Check(quota.Tasks, all); e != nil {
		return e
	}
	if launch == ecstypes.LaunchTypeFargate {
		return s.quotas.Check(quota.FargateTasks, fargate)
	}
	return nil
}
