package storage

import "fmt"

// FullError is a change the store could not write because the filesystem of
// the data directory is full, over its quota or read-only. The protocols
// answer it as a server fault (EC2 InternalError, ECS ServerException, HTTP
// 500) whose message names the directory, so that the user learns what to do
// rather than that something failed.
type FullError struct {
	Dir    string // the data directory
	Reason string // "is full (no space left on device)", "is read-only", …
	Err    error
}

func (e *FullError) Error() string {
	return fmt.Sprintf("the data directory %s %s: %v", e.Dir, e.Reason, e.Err)
}

func (e *FullError) Unwrap() error { return e.Err }

// Message is what a client is told.
func (e *FullError) Message() string {
	return fmt.Sprintf("vpcsim could not save this change: its data directory %s %s. Free space there (or make it writable) and retry.", e.Dir, e.Reason)
}
