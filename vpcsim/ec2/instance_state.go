package ec2

import (
	"context"
)

// TerminateInstances shuts instances down; they answer shutting-down and become
// terminated once their namespace is gone.
func (c *Cloud) TerminateInstances(ctx context.Context, s Scope, ids []string) ([]InstanceStateChange, error) {
	return c.changeStates(ctx, s, ids, func(inst *Instance) (string, error) {
		switch inst.State {
		case StateTerminated, StateShuttingDown:
			return inst.State, nil
		}
		if inst.Settings.DisableAPITermination {
			return "", Errorf("OperationNotPermitted", "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", inst.ID)
		}
		inst.StateReasonCode, inst.StateReasonMessage = "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
		inst.StateTransitionReason = "User initiated (" + c.now().UTC().Format("2006-01-02 15:04:05 MST") + ")"
		return StateShuttingDown, nil
	})
}

// StopInstances stops running instances: their processes end, their ENIs stay attached.
func (c *Cloud) StopInstances(ctx context.Context, s Scope, ids []string) ([]InstanceStateChange, error) {
	return c.changeStates(ctx, s, ids, func(inst *Instance) (string, error) {
		switch inst.State {
		case StateStopped, StateStopping:
			return inst.State, nil
		case StateRunning:
			if inst.Settings.DisableAPIStop {
				return "", Errorf("OperationNotPermitted", "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", inst.ID)
			}
			inst.StateReasonCode, inst.StateReasonMessage = "Client.UserInitiatedShutdown", "Client.UserInitiatedShutdown: User initiated shutdown"
			inst.StateTransitionReason = "User initiated (" + c.now().UTC().Format("2006-01-02 15:04:05 MST") + ")"
			return StateStopping, nil
		}
		return "", Errorf("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be stopped.", inst.ID)
	})
}

// StartInstances starts stopped instances: pending, then running.
func (c *Cloud) StartInstances(ctx context.Context, s Scope, ids []string) ([]InstanceStateChange, error) {
	return c.changeStates(ctx, s, ids, func(inst *Instance) (string, error) {
		switch inst.State {
		case StateRunning, StatePending:
			return inst.State, nil
		case StateStopped:
			inst.StateReasonCode, inst.StateReasonMessage, inst.StateTransitionReason = "", "", ""
			return StatePending, nil
		}
		return "", Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", inst.ID)
	})
}

// RebootInstances asks running instances to reboot: each stays running,
// with its addresses, ENIs, volumes and namespace, while its operating
// system restarts (see reboot). EC2 ignores a terminated instance, and so
// one shutting down; an instance pending, stopping or stopped is refused,
// all or nothing.
func (c *Cloud) RebootInstances(ctx context.Context, s Scope, ids []string) error {
	_, err := c.changeStates(ctx, s, ids, func(inst *Instance) (string, error) {
		switch inst.State {
		case StateRunning:
			inst.Rebooting = true
		case StateTerminated, StateShuttingDown:
		default:
			return "", Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be rebooted.", inst.ID)
		}
		return inst.State, nil
	})
	return err
}

// changeStates moves every named instance to the state next gives it, all or
// nothing, then finishes each transition in the background.
func (c *Cloud) changeStates(ctx context.Context, s Scope, ids []string, next func(*Instance) (string, error)) ([]InstanceStateChange, error) {
	if len(ids) == 0 {
		return nil, missingParameter("InstanceId")
	}
	if err := c.lock(ctx, s); err != nil {
		return nil, err
	}
	c.waitIdleLocked(ids...) // a transition in flight finishes first
	list, err := c.instancesLocked(s, ids)
	if err != nil {
		c.unlock()
		return nil, err
	}
	var out []InstanceStateChange
	var reboots []string
	for _, inst := range list {
		prev := inst.State
		inst = edit(c.model().instances, inst.ID)
		state, err := next(inst)
		if err != nil {
			c.unlock()
			return nil, err
		}
		out = append(out, InstanceStateChange{InstanceID: inst.ID, PreviousState: prev, CurrentState: state})
		inst.State = state
		if state != prev {
			inst.Rebooting = false // a stop or a termination ends a reboot too
		}
		if inst.Rebooting {
			reboots = append(reboots, inst.ID)
		}
	}
	if err := c.commitLocked(); err != nil {
		c.unlock()
		return nil, err
	}
	c.unlock()
	for i, ch := range out {
		if ch.PreviousState == ch.CurrentState {
			continue
		}
		switch ch.CurrentState {
		case StatePending:
			c.background(list[i].ID, c.bringUp)
		case StateStopping, StateShuttingDown:
			c.background(list[i].ID, c.tearDown)
		}
	}
	for _, id := range reboots {
		c.background(id, c.reboot)
	}
	return out, nil
}
