package ec2

import "github.com/vpcsim/vpcsim/vpcsim/bus"

// InstanceChanged is published once a change to an instance is stored: the
// instance as it now is, with its attached ENIs, or Deleted with the last
// version it had (EC2 forgets a terminated instance after an hour). ECS
// follows it to register and deregister container instances.
type InstanceChanged struct {
	Instance Instance
	Deleted  bool
}

// ENIChanged is published once a change to an ENI is stored: the ENI as it
// now is, or Deleted with the last version it had.
type ENIChanged struct {
	ENI     ENI
	Deleted bool
}

// WithBus publishes EC2's events on b (default: a bus of its own), the bus
// the other services of one vpcsim share.
func WithBus(b *bus.Bus) Option { return func(c *Cloud) { c.events = b } }

// Events is the bus EC2 publishes its events on.
func (c *Cloud) Events() *bus.Bus { return c.events }

// emitChangesLocked adds the events of what the call's transaction changes to
// it; the transaction publishes them once (and only if) it commits, after the
// store has it and without c.mu held by the subscribers.
func (c *Cloud) emitChangesLocked(m *model) {
	for id, inst := range m.instances.Staged() {
		if inst != nil {
			m.tx.Emit(InstanceChanged{Instance: c.copyInstanceLocked(inst)})
		} else if old, ok := c.tables.instances.Get(id); ok {
			m.tx.Emit(InstanceChanged{Instance: c.copyInstanceLocked(old), Deleted: true})
		}
	}
	for id, e := range m.enis.Staged() {
		if e != nil {
			m.tx.Emit(ENIChanged{ENI: copyENI(e)})
		} else if old, ok := c.tables.enis.Get(id); ok {
			m.tx.Emit(ENIChanged{ENI: copyENI(old), Deleted: true})
		}
	}
}
