package ec2

import (
	"context"
	"strconv"
)

// InstanceStatus is an instance's status checks, as DescribeInstanceStatus
// answers them. A vpcsim instance is up as soon as it is running (its
// namespace and links exist), so its checks pass then; they do not apply to
// an instance that is not running.
type InstanceStatus struct {
	InstanceID string
	AZ, AZID   string
	State      string
	Status     string // ok, or not-applicable
}

// DescribeInstanceStatus answers the status checks of the region's running
// instances (all of them with includeAll), those named or all, filtered.
func (c *Cloud) DescribeInstanceStatus(ctx context.Context, s Scope, ids []string, f []Filter, includeAll bool) ([]InstanceStatus, error) {
	return describeFiltered(ctx, c, s, f, func() ([]InstanceStatus, error) {
		c.purgeLocked()
		list, err := c.regionInstancesLocked(s, ids)
		if err != nil {
			return nil, err
		}
		var out []InstanceStatus
		for _, inst := range list {
			st := InstanceStatus{InstanceID: inst.ID, AZ: inst.AZ, AZID: ZoneIDOf(s.Region, inst.AZ), State: inst.State, Status: "not-applicable"}
			switch {
			case inst.State == StateRunning:
				st.Status = "ok"
			case !includeAll:
				continue
			}
			out = append(out, st)
		}
		return out, nil
	}, nil, instanceStatusFilter)
}

func instanceStatusFilter(st *InstanceStatus, name string) ([]string, bool) {
	var reachability []string // none when the checks do not apply
	if st.Status == "ok" {
		reachability = []string{"passed"}
	}
	switch name {
	case "availability-zone":
		return []string{st.AZ}, true
	case "instance-state-name":
		return []string{st.State}, true
	case "instance-state-code":
		return []string{strconv.Itoa(StateCode(st.State))}, true
	case "instance-status.status", "system-status.status":
		return []string{st.Status}, true
	case "instance-status.reachability", "system-status.reachability", "attached-ebs-status.reachability":
		return reachability, true
	case "attached-ebs-status.status":
		return []string{st.Status}, true
	case "availability-zone-id":
		return []string{st.AZID}, true
	case "operator.managed":
		return []string{"false"}, true
	case "operator.principal":
		return nil, true
	case "event.code", "event.description", "event.instance-event-id", "event.not-after", "event.not-before", "event.not-before-deadline":
		return nil, true // no scheduled events
	}
	return nil, false
}

// CreditSpec is a burstable instance's CPU credit option.
type CreditSpec struct {
	InstanceID string
	CPUCredits string // standard or unlimited
}

func notBurstable(id string) error {
	return invalidValue("The instance '%s' is not a burstable performance instance.", id)
}

// DescribeInstanceCreditSpecifications answers the credit option of the
// region's burstable (T) instances, those named or all.
func (c *Cloud) DescribeInstanceCreditSpecifications(ctx context.Context, s Scope, ids []string) ([]CreditSpec, error) {
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	defer c.unlock()
	list, err := c.regionInstancesLocked(s, ids)
	if err != nil {
		return nil, err
	}
	var out []CreditSpec
	for _, inst := range list {
		credits := inst.Described().CPUCredits
		switch {
		case credits == "" && len(ids) > 0:
			return nil, notBurstable(inst.ID)
		case credits == "" || inst.State == StateTerminated:
			continue
		}
		out = append(out, CreditSpec{InstanceID: inst.ID, CPUCredits: credits})
	}
	return out, nil
}

// CreditFailure is one instance ModifyInstanceCreditSpecification could not
// change, and why.
type CreditFailure struct {
	InstanceID    string
	Code, Message string
}

// ModifyInstanceCreditSpecification changes burstable instances' credit
// options; each instance succeeds or fails on its own, as EC2 answers.
func (c *Cloud) ModifyInstanceCreditSpecification(ctx context.Context, s Scope, specs []CreditSpec) ([]string, []CreditFailure, error) {
	if len(specs) == 0 {
		return nil, nil, missingParameter("instanceCreditSpecification")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, nil, err
	}
	defer c.unlock()
	var ok []string
	var failed []CreditFailure
	fail := func(id string, err error) {
		e, _ := AsAPIError(err)
		failed = append(failed, CreditFailure{InstanceID: id, Code: e.Code, Message: e.Message})
	}
	for _, spec := range specs {
		if spec.CPUCredits != "standard" && spec.CPUCredits != "unlimited" {
			return nil, nil, invalidValue("Value (%s) for parameter cpuCredits is invalid. Valid values are standard and unlimited.", spec.CPUCredits)
		}
	}
	for _, spec := range specs {
		inst, err := c.instanceLocked(s, spec.InstanceID)
		switch {
		case err != nil:
			fail(spec.InstanceID, err)
			continue
		case !burstable(inst.Type):
			fail(inst.ID, creditsNotSupported(inst.Type))
			continue
		case inst.State == StateTerminated || inst.State == StateShuttingDown:
			fail(inst.ID, Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which its credit option can be changed.", inst.ID))
			continue
		}
		inst = editSettings(c.model().instances, inst.ID)
		inst.Settings.CPUCredits = spec.CPUCredits
		ok = append(ok, inst.ID)
	}
	if err := c.commitLocked(); err != nil {
		return nil, nil, err
	}
	return ok, failed, nil
}

// ZoneIDOf is the ID of a zone of a region ("" for none).
func ZoneIDOf(region, zone string) string {
	for _, z := range AvailabilityZones(region) {
		if z.Name == zone {
			return z.ZoneID
		}
	}
	return ""
}
