package bus

import (
	"runtime"
	"slices"
	"sync"
	"testing"
)

type taskState struct {
	ID, Status string
}

// Events reach every subscriber in the order they were published, while the
// publisher goes on: a subscriber that is still busy delays only itself.
func TestOrderAndIndependence(t *testing.T) {
	b := New()
	release := make(chan struct{})
	var slowGot []taskState
	slowDone := make(chan struct{})
	slow := On(b, func(e taskState) {
		<-release
		slowGot = append(slowGot, e)
		if len(slowGot) == 3 {
			close(slowDone)
		}
	})
	defer slow.Cancel()
	fast := make(chan taskState, 10)
	sub := On(b, func(e taskState) { fast <- e })
	defer sub.Cancel()

	b.Publish([]any{taskState{"a", "PENDING"}, "not a task event"})
	b.Publish([]any{taskState{"a", "RUNNING"}})
	b.Publish([]any{taskState{"b", "PENDING"}}) // Publish returned although slow is blocked
	var got []taskState
	for range 3 {
		got = append(got, <-fast)
	}
	want := []taskState{{"a", "PENDING"}, {"a", "RUNNING"}, {"b", "PENDING"}}
	if !slices.Equal(got, want) {
		t.Fatalf("fast got %v", got)
	}
	close(release)
	<-slowDone
	if !slices.Equal(slowGot, want) {
		t.Fatalf("slow got %v", slowGot)
	}
}

// Cancel waits for the event under way; after it returns the handler runs
// no more, and what was queued is dropped.
func TestCancel(t *testing.T) {
	b := New()
	var mu sync.Mutex
	var n int
	finished := false
	entered := make(chan struct{})
	proceed := make(chan struct{})
	s := b.Subscribe(func(any) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			close(entered)
			<-proceed
			mu.Lock()
			finished = true
			mu.Unlock()
		}
	})
	b.Publish([]any{1, 2, 3})
	<-entered
	cancelled := make(chan struct{})
	go func() { s.Cancel(); close(cancelled) }()
	for !s.isCancelled() { // Cancel has dropped the queue and waits for the handler
		runtime.Gosched()
	}
	close(proceed)
	<-cancelled
	b.Publish([]any{4})
	s.Cancel() // twice is harmless
	mu.Lock()
	defer mu.Unlock()
	if !finished {
		t.Fatal("Cancel returned before the event under way was handled")
	}
	if n != 1 {
		t.Fatalf("handled %d events, want only the one under way at Cancel", n)
	}
}

func BenchmarkPublish(b *testing.B) {
	bus := New()
	done := make(chan struct{})
	var seen int
	s := bus.Subscribe(func(any) {
		seen++
		if seen == b.N {
			close(done)
		}
	})
	defer s.Cancel()
	for i := 0; i < b.N; i++ {
		bus.Publish([]any{i})
	}
	<-done
}

func (s *Subscription) isCancelled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelled
}

// Drain returns once every event published before it, and every event its
// handlers published in turn, has been handled.
func TestDrain(t *testing.T) {
	b := New()
	var mu sync.Mutex
	var got []string
	first := On(b, func(e taskState) {
		if e.Status == "PENDING" {
			b.Publish([]any{taskState{e.ID, "RUNNING"}})
		}
	})
	defer first.Cancel()
	second := On(b, func(e taskState) {
		runtime.Gosched()
		mu.Lock()
		got = append(got, e.ID+"/"+e.Status)
		mu.Unlock()
	})
	defer second.Cancel()
	b.Publish([]any{taskState{"a", "PENDING"}, taskState{"b", "PENDING"}})
	b.Drain()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("after Drain: %v, want 4 events", got)
	}
}
