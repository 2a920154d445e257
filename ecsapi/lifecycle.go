package ecsapi

import (
	"context"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/fault"
)

// The task lifecycle, as ECS and its agent run it: its states and the one
// table of the transitions between them are in taskstate.go; here is the work
// done in each. One goroutine drives each task; a stop request closes the
// task's channel.

// lifecycleTimeout bounds one task's work outside a request.
const lifecycleTimeout = 10 * time.Minute

// startLifecycle runs a task's lifecycle in the background.
func (s *Service) startLifecycle(arn string) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		s.lifecycle(arn)
	}()
}

// update changes a copy of a task and stores it; it answers the version
// stored, or 0 when the task is gone or the change was refused: when f fails
// (an illegal transition) or the store refuses, that is logged and the task
// stays as it was.
func (s *Service) update(arn string, f func(t *taskRec) error) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	t, ok := m.tasks.Edit(arn)
	if !ok {
		return 0
	}
	if err := f(t); err != nil {
		s.log.Error("a task's change refused: a bug in vpcsim", "task", arn, "err", err)
		return 0
	}
	t.T.Version = ecstypes.Ptr(deref(t.T.Version) + 1)
	if !s.commitOrLog(m, "a task's state", arn) {
		return 0
	}
	return *t.T.Version
}

// advance takes a task to its next lifecycle status, with what else that step
// changes of it (f, or nil), through update; then it waits for the followers
// that hold that status (follow.go).
func (s *Service) advance(ctx context.Context, arn string, to TaskStatus, f func(t *taskRec)) {
	v := s.update(arn, func(t *taskRec) error {
		if f != nil {
			f(t)
		}
		return t.setStatus(to)
	})
	if v > 0 {
		s.hold(ctx, arn, to, v)
	}
}

// snapshot returns the task as stored, and whether it should stop. A stored
// record never changes (a change publishes a new one), so the copy may share
// its slices with it.
func (s *Service) snapshot(arn string) (taskRec, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks.Get(arn)
	if !ok {
		return taskRec{}, true
	}
	return *t, t.desired() == ecstypes.DesiredStatusStopped
}

func (s *Service) pause() {
	if s.stepDelay > 0 {
		time.Sleep(s.stepDelay)
	}
}

func (s *Service) lifecycle(arn string) {
	ctx, cancel := context.WithTimeout(context.Background(), lifecycleTimeout)
	defer cancel()
	t, stop := s.snapshot(arn)
	if !stop && t.status().pending() {
		s.bringUp(ctx, arn)
	} else if !stop {
		s.readopt(ctx, t)
	}
	if s.waitForStop(arn) {
		s.tearDown(ctx, arn)
	}
}

// bringUp takes a task from PROVISIONING to RUNNING, or to a stop request with
// TaskFailedToStart when a step fails.
func (s *Service) bringUp(ctx context.Context, arn string) {
	t, _ := s.snapshot(arn)
	sc := Scope{Region: t.Region}
	if t.AWSVPC {
		if err := s.provisionENI(ctx, arn); err != nil {
			s.log.Error("task ENI provisioning failed", "task", arn, "err", err)
			s.failToStart(arn, "Timeout waiting for network interface provisioning to complete.")
			return
		}
	}
	netnsPath := ""
	if !t.AWSVPC {
		var err error
		if netnsPath, err = s.attachNetwork(ctx, t); err != nil {
			s.log.Error("task network", "task", arn, "err", err)
			s.failToStart(arn, "ResourceInitializationError: failed to set up the task's network: "+err.Error())
			return
		}
	}
	if t, stop := s.snapshot(arn); stop || t.ID == "" {
		return
	}
	s.pause()
	// The followers holding PENDING (the task's metadata endpoint) are
	// ready before the containers start.
	s.advance(ctx, arn, TaskStatusPending, nil)
	run, err := s.taskRun(sc, arn)
	if !t.AWSVPC {
		run.NetnsPath = netnsPath
	}
	if err != nil {
		s.failToStart(arn, err.Error())
		return
	}
	res, err := s.rt.Start(ctx, run)
	if err != nil {
		s.failToStart(arn, err.Error())
		return
	}
	fault.Point(fault.TaskStarted)
	s.advance(ctx, arn, TaskStatusActivating, func(t *taskRec) {
		t.T.PullStartedAt, t.T.PullStoppedAt = ecstypes.NewTimestamp(res.PullStarted), ecstypes.NewTimestamp(res.PullStopped)
		for i := range t.T.Containers {
			c := &t.T.Containers[i]
			name := deref(c.Name)
			if c.LastStatus != nil && *c.LastStatus == "STOPPED" {
				continue // exited already
			}
			c.LastStatus = str("RUNNING")
			if id, ok := res.RuntimeIDs[name]; ok {
				c.RuntimeId = str(id)
			}
			if d, ok := res.ImageDigests[name]; ok {
				c.ImageDigest = str(d)
			}
		}
	})
	s.pause()
	s.advance(ctx, arn, TaskStatusRunning, func(t *taskRec) {
		now := s.now()
		t.T.StartedAt, t.T.ConnectivityAt = ecstypes.NewTimestamp(now), ecstypes.NewTimestamp(now)
		t.T.Connectivity = ecstypes.ConnectivityConnected
	})
}

// readopt picks up a task that was RUNNING before a restart: its network and
// its containers (its followers, the metadata endpoint among them, heard of
// it when the service started). A task whose containers did not survive
// stops.
func (s *Service) readopt(ctx context.Context, t taskRec) {
	arn := *t.T.TaskArn
	netnsPath := s.netns(t.host())
	if !t.AWSVPC {
		var err error
		if netnsPath, err = s.attachNetwork(ctx, t); err != nil {
			s.log.Error("restore a task's network after a restart", "task", arn, "err", err)
		}
	}
	ad, ok := s.rt.(Adopter)
	if !ok {
		return
	}
	run, err := s.taskRun(Scope{Region: t.Region}, arn)
	if err == nil {
		run.NetnsPath = netnsPath
		err = ad.Adopt(ctx, run)
	}
	if err != nil {
		s.log.Warn("a task's containers did not survive the restart", "task", arn, "err", err)
		s.requestStop(arn, ecstypes.TaskStopCodeEssentialContainerExited, "Essential container in task exited")
	}
}

// provisionENI makes the task's ENI in its subnet and moves it into the task's
// namespace; the attachment becomes ATTACHED with the ENI's details.
func (s *Service) provisionENI(ctx context.Context, arn string) error {
	t, _ := s.snapshot(arn)
	ec := ec2sim.Scope{Region: t.Region}
	eniID := t.ENIID
	if eniID == "" {
		desc := "arn:aws:ecs:" + t.Region + ":" + s.account + ":attachment/" + deref(t.T.Attachments[0].Id)
		e, err := s.ec2.CreateTaskENI(ctx, ec, t.SubnetID, t.Groups, desc, t.PublicIP)
		if err != nil {
			return err
		}
		eniID = e.ID
		fault.Point(fault.TaskENICreated)
		s.update(arn, func(t *taskRec) error { t.ENIID = e.ID; return nil })
	}
	e, err := s.ec2.AttachTaskENI(ctx, ec, eniID, t.EC2ID, t.host())
	if err != nil {
		return err
	}
	fault.Point(fault.TaskENIAttached)
	ip := e.PrimaryIP().String()
	cidr, gw, dns := subnetFacts(e.SubnetCIDR)
	var v6 *string // the ENI's IPv6 address, in a dual-stack subnet
	if len(e.IPv6) > 0 {
		v6 = str(e.IPv6[0].String())
	}
	s.update(arn, func(t *taskRec) error {
		t.ENIAttached = true
		t.SubnetCIDR, t.Gateway, t.DNSServer, t.VPCID = cidr, gw, dns, e.VPCID
		if v6 != nil {
			t.SubnetIPv6 = e.SubnetIPv6.String()
		}
		a := &t.T.Attachments[0]
		a.Status = str("ATTACHED")
		a.Details = []ecstypes.KeyValuePair{
			{Name: str("subnetId"), Value: str(e.SubnetID)},
			{Name: str("networkInterfaceId"), Value: str(e.ID)},
			{Name: str("macAddress"), Value: str(e.MAC)},
			{Name: str("privateDnsName"), Value: str(ec2sim.PrivateDNSName(t.Region, e.PrimaryIP()))},
			{Name: str("privateIPv4Address"), Value: str(ip)},
		}
		if v6 != nil {
			a.Details = append(a.Details, ecstypes.KeyValuePair{Name: str("ipv6Address"), Value: v6})
		}
		for i := range t.T.Containers {
			t.T.Containers[i].NetworkInterfaces = []ecstypes.NetworkInterface{{AttachmentId: a.Id, PrivateIpv4Address: str(ip), Ipv6Address: v6}}
		}
		return nil
	})
	return nil
}

// taskRun builds what the runtime needs, with the task's overrides applied.
func (s *Service) taskRun(sc Scope, arn string) (TaskRun, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks.Get(arn)
	if !ok {
		return TaskRun{}, clientErr("The task is gone.")
	}
	td, _ := s.taskDefs.Get(t.TaskDefARN)
	if td == nil {
		return TaskRun{}, clientErr("The task definition of the task is gone.")
	}
	run := TaskRun{
		TaskID: t.ID, TaskARN: arn, Volumes: td.TD.Volumes,
		NetworkMode: td.TD.NetworkMode, PidMode: td.TD.PidMode, IpcMode: td.TD.IpcMode,
		Exited: func(name string, code int, reason string) { s.containerExited(arn, name, code, reason) },
		Health: func(name string, status ecstypes.HealthStatus) { s.containerHealth(arn, name, status) },
	}
	if run.NetworkMode == "" {
		run.NetworkMode = ecstypes.NetworkModeBridge
	}
	run.CPU, run.Memory = taskLimits(td, t.T.Overrides)
	if t.AWSVPC {
		run.NetnsPath = s.netns(t.host())
	}
	for i, def := range td.TD.ContainerDefinitions {
		env := append(metadataEnv(metadataID(t.T.Containers[i]), t.T.LaunchType == ecstypes.LaunchTypeFargate), def.Environment...)
		cr := ContainerRun{Def: def, Command: def.Command, Environment: env, StopTimeout: 30 * time.Second}
		if def.StopTimeout != nil {
			cr.StopTimeout = time.Duration(*def.StopTimeout) * time.Second
		}
		if o := t.T.Overrides; o != nil {
			for _, co := range o.ContainerOverrides {
				if deref(co.Name) == deref(def.Name) {
					applyContainerOverride(&cr, co)
				}
			}
		}
		run.Containers = append(run.Containers, cr)
	}
	return run, nil
}

// applyContainerOverride applies what RunTask's containerOverrides say of one
// container, as ECS does: command, environmentFiles, cpu, memory and
// memoryReservation replace the definition's; environment is added to it
// (a name given again wins). resourceRequirements are not applied (no GPUs).
func applyContainerOverride(cr *ContainerRun, co ecstypes.ContainerOverride) {
	if co.Command != nil {
		cr.Command = co.Command
	}
	cr.Environment = append(cr.Environment, co.Environment...)
	if co.EnvironmentFiles != nil {
		cr.Def.EnvironmentFiles = co.EnvironmentFiles
	}
	if co.Cpu != nil {
		cr.Def.Cpu = co.Cpu
	}
	if co.Memory != nil {
		cr.Def.Memory = co.Memory
	}
	if co.MemoryReservation != nil {
		cr.Def.MemoryReservation = co.MemoryReservation
	}
}

// containerExited handles a container's own exit: its restart policy may
// start it again (restartpolicy.go); else recordExit.
func (s *Service) containerExited(arn, name string, code int, reason string) {
	s.mu.Lock()
	m := s.begin()
	t, ok := m.tasks.Get(arn)
	if ok && s.shouldRestartLocked(m, t, name, code) {
		t, _ = m.tasks.Edit(arn)
		restarts := map[string]containerRestarts{}
		for k, v := range t.Restarts {
			restarts[k] = v
		}
		restarts[name] = containerRestarts{Count: restarts[name].Count + 1, Last: s.now()}
		t.Restarts = restarts
		t.T.Version = ecstypes.Ptr(deref(t.T.Version) + 1)
		if s.commitOrLog(m, "a container's restart", arn) {
			s.mu.Unlock()
			s.restartContainer(arn, t.ID, name, code, reason)
			return
		}
	}
	s.mu.Unlock()
	s.recordExit(arn, name, code, reason)
}

// recordExit records a container's own exit; an essential container's exit
// (or the last container's) stops the task.
func (s *Service) recordExit(arn, name string, code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	t, ok := m.tasks.Edit(arn)
	if !ok {
		return
	}
	essential := true
	if td, _ := m.taskDefs.Get(t.TaskDefARN); td != nil {
		for _, d := range td.TD.ContainerDefinitions {
			if deref(d.Name) == name {
				essential = deref(d.Essential)
			}
		}
	}
	alive := 0
	for i := range t.T.Containers {
		c := &t.T.Containers[i]
		if deref(c.Name) == name {
			c.LastStatus, c.ExitCode = str("STOPPED"), ecstypes.Ptr(int32(code))
			if reason != "" {
				c.Reason = str(truncate(reason, 1024))
			}
		}
		if deref(c.LastStatus) != "STOPPED" {
			alive++
		}
	}
	t.T.Version = ecstypes.Ptr(deref(t.T.Version) + 1)
	if essential || alive == 0 {
		s.requestStopLocked(m, arn, ecstypes.TaskStopCodeEssentialContainerExited, "Essential container in task exited")
	}
	s.commitOrLog(m, "a container's exit", arn)
}

// containerHealth records a container's health, and the task's: HEALTHY when
// every essential container that has a health check is healthy, UNHEALTHY when
// one is not, UNKNOWN before that, as ECS rolls it up.
func (s *Service) containerHealth(arn, name string, status ecstypes.HealthStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	t, ok := m.tasks.Edit(arn)
	if !ok {
		return
	}
	td, _ := m.taskDefs.Get(t.TaskDefARN)
	checked := map[string]bool{}
	if td != nil {
		for _, d := range td.TD.ContainerDefinitions {
			checked[deref(d.Name)] = d.HealthCheck != nil && deref(d.Essential)
		}
	}
	task := ecstypes.HealthStatusHealthy
	seen := false
	for i := range t.T.Containers {
		c := &t.T.Containers[i]
		if deref(c.Name) == name {
			c.HealthStatus = status
		}
		if !checked[deref(c.Name)] {
			continue
		}
		seen = true
		switch c.HealthStatus {
		case ecstypes.HealthStatusUnhealthy:
			task = ecstypes.HealthStatusUnhealthy
		case ecstypes.HealthStatusUnknown, "":
			if task != ecstypes.HealthStatusUnhealthy {
				task = ecstypes.HealthStatusUnknown
			}
		}
	}
	if !seen {
		task = ecstypes.HealthStatusUnknown
	}
	t.T.HealthStatus = task
	t.T.Version = ecstypes.Ptr(deref(t.T.Version) + 1)
	s.commitOrLog(m, "a container's health", arn)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// failToStart stops a task that could not start.
func (s *Service) failToStart(arn, reason string) {
	s.requestStop(arn, ecstypes.TaskStopCodeTaskFailedToStart, reason)
}

// requestStop asks a task to stop, outside a request.
func (s *Service) requestStop(arn string, code ecstypes.TaskStopCode, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.begin()
	s.requestStopLocked(m, arn, code, reason)
	s.commitOrLog(m, "a stop request", arn)
}

// requestStopLocked stages a task's desired status STOPPED, once: the first
// reason wins, as in ECS. Its lifecycle hears of it once that is stored.
func (s *Service) requestStopLocked(m *model, arn string, code ecstypes.TaskStopCode, reason string) {
	if t, ok := m.tasks.Get(arn); !ok || t.desired() == ecstypes.DesiredStatusStopped {
		return
	}
	t, _ := m.tasks.Edit(arn)
	if err := t.setDesired(ecstypes.DesiredStatusStopped); err != nil {
		s.log.Error("a stop request refused: a bug in vpcsim", "task", arn, "err", err)
		return
	}
	t.T.StopCode, t.T.StoppedReason = code, str(reason)
	t.T.StoppingAt = ecstypes.NewTimestamp(s.now())
	t.T.Version = ecstypes.Ptr(deref(t.T.Version) + 1)
	m.after = append(m.after, func() { s.stopSignal(arn) })
}

// stopTasksOnLocked stages stopping every task on a container instance.
func (s *Service) stopTasksOnLocked(m *model, inst *instanceRec, code ecstypes.TaskStopCode, reason string) {
	for t := range m.tasks.All() {
		if t.InstanceARN == *inst.CI.ContainerInstanceArn && t.status() != TaskStatusStopped {
			s.requestStopLocked(m, *t.T.TaskArn, code, reason)
		}
	}
}

// tearDown takes a task that should stop from wherever it is to STOPPED.
func (s *Service) tearDown(ctx context.Context, arn string) {
	t, _ := s.snapshot(arn)
	if t.ID == "" || t.status() == TaskStatusStopped {
		return
	}
	s.advance(ctx, arn, TaskStatusDeactivating, nil)
	s.pause()
	s.advance(ctx, arn, TaskStatusStopping, nil)
	codes, err := s.rt.Stop(ctx, t.ID)
	if err != nil {
		s.log.Error("stop a task's containers", "task", arn, "err", err)
	}
	fault.Point(fault.TaskContainersStopped)
	s.advance(ctx, arn, TaskStatusDeprovisioning, func(t *taskRec) {
		for i := range t.T.Containers {
			c := &t.T.Containers[i]
			if deref(c.LastStatus) == "STOPPED" {
				continue
			}
			c.LastStatus = str("STOPPED")
			if code, ok := codes[deref(c.Name)]; ok {
				c.ExitCode = ecstypes.Ptr(int32(code))
			}
		}
		t.T.ExecutionStoppedAt = ecstypes.NewTimestamp(s.now())
		if t.AWSVPC && len(t.T.Attachments) > 0 {
			t.T.Attachments[0].Status = str("DETACHING")
		}
	})
	// The followers holding DEPROVISIONING (the metadata endpoint) are
	// done with the task's network before it goes.
	s.pause()
	if err := s.detachNetwork(ctx, t); err != nil {
		s.log.Error("remove a stopped task's network", "task", arn, "err", err)
	}
	if t.AWSVPC && t.ENIID != "" {
		if err := s.ec2.DeleteTaskENI(ctx, ec2sim.Scope{Region: t.Region}, t.ENIID); err != nil {
			s.log.Error("delete a stopped task's ENI", "task", arn, "eni", t.ENIID, "err", err)
		}
	}
	fault.Point(fault.TaskENIDeleted)
	s.advance(ctx, arn, TaskStatusStopped, func(t *taskRec) {
		t.ENIAttached = false
		if t.AWSVPC && len(t.T.Attachments) > 0 {
			t.T.Attachments[0].Status = str("DELETED")
		}
		now := s.now()
		t.T.StoppedAt = ecstypes.NewTimestamp(now)
		if t.T.ExecutionStoppedAt == nil {
			t.T.ExecutionStoppedAt = ecstypes.NewTimestamp(now)
		}
		t.T.Connectivity = ""
	})
}

// resume picks up, after a restart, every task that is not STOPPED.
func (s *Service) resume(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tasks.All() {
		if t.status() != TaskStatusStopped {
			s.startLifecycle(*t.T.TaskArn)
		}
	}
}
