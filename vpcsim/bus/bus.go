// Package bus hands the events of committed changes to the parts of vpcsim
// that follow them (ECS follows EC2's instances, a service scheduler its
// tasks, tests wait on task states instead of polling), in the order they
// were committed and never with the committing domain's lock held.
//
// Publish never blocks: each subscription queues what it has not handled yet
// and handles it on a goroutine of its own, one event at a time. A slow
// subscriber delays only itself.
package bus

import "sync"

// Bus is one vpcsim's event bus.
type Bus struct {
	mu   sync.Mutex
	subs []*Subscription
}

// New returns a bus with no subscribers.
func New() *Bus { return &Bus{} }

// Publish queues events for every subscription, in order. It fits
// storage.DB.OnCommit: it returns at once, whatever the subscribers do.
func (b *Bus) Publish(events []any) {
	if len(events) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s.push(events)
	}
}

// Subscribe calls handle with every event published from now on, one at a
// time and in order, on a goroutine of the subscription's own.
func (b *Bus) Subscribe(handle func(event any)) *Subscription {
	s := &Subscription{bus: b, handle: handle, wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.idle = sync.NewCond(&s.mu)
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	go s.run()
	return s
}

// On calls handle with every published event of type E.
func On[E any](b *Bus, handle func(E)) *Subscription {
	return b.Subscribe(func(event any) {
		if e, ok := event.(E); ok {
			handle(e)
		}
	})
}

// Subscription is one subscriber's queue and goroutine.
type Subscription struct {
	bus    *Bus
	handle func(any)
	wake   chan struct{}
	done   chan struct{}

	mu        sync.Mutex
	idle      *sync.Cond // signalled when the queue is empty and no handler runs
	queue     []any
	busy      bool // a handler runs
	cancelled bool
}

// Drain waits until every subscription has handled every event published
// before it was called (and what those handlers published in turn): for
// tests and shutdown, which want "everything that followed from this is done".
// It must not be called from a handler.
func (b *Bus) Drain() {
	for {
		b.mu.Lock()
		subs := append([]*Subscription(nil), b.subs...)
		b.mu.Unlock()
		quiet := true
		for _, s := range subs {
			s.mu.Lock()
			for (len(s.queue) > 0 || s.busy) && !s.cancelled {
				quiet = false
				s.idle.Wait()
			}
			s.mu.Unlock()
		}
		if quiet {
			return
		}
	}
}

func (s *Subscription) push(events []any) {
	s.mu.Lock()
	if !s.cancelled {
		s.queue = append(s.queue, events...)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Subscription) run() {
	defer close(s.done)
	for range s.wake {
		for {
			s.mu.Lock()
			s.busy = false
			if s.cancelled {
				s.idle.Broadcast()
				s.mu.Unlock()
				return
			}
			if len(s.queue) == 0 {
				s.idle.Broadcast()
				s.mu.Unlock()
				break
			}
			event := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.busy = true
			s.mu.Unlock()
			s.handle(event)
		}
	}
}

// Cancel ends the subscription: the event being handled is the last, what is
// still queued is dropped. It waits for the handler to return, so it must
// not be called from the handler itself.
func (s *Subscription) Cancel() {
	s.bus.mu.Lock()
	for i, x := range s.bus.subs {
		if x == s {
			s.bus.subs = append(s.bus.subs[:i:i], s.bus.subs[i+1:]...)
			break
		}
	}
	s.bus.mu.Unlock()
	s.mu.Lock()
	already := s.cancelled
	s.cancelled = true
	s.queue = nil
	s.idle.Broadcast()
	s.mu.Unlock()
	if !already {
		close(s.wake)
	}
	<-s.done
}
