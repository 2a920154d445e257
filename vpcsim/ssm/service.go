// Package ssm is the SSM Parameter Store of vpcsim: String, StringList and
// SecureString parameters with their versions, labels, tiers and tags, per
// account and region, and AWS's public parameters of the images it knows
// (package amicatalog), read-only. It is pure Go: every call is one
// transaction of the storage engine, so a parameter is stored whole or not
// at all. Its request and response types are the API's own shapes (package
// ssmtypes), as the JSON protocol (package ssmjson) carries them.
//
// SecureString values are kept as they were given (in plaintext), in
// vpcsim's database inside its private data directory (0700, the file 0600):
// there is no KMS here. The KeyId is stored and answered, and a value is
// given out only to a call that asks for it WithDecryption; other calls get
// an opaque ciphertext made when the version was stored, as AWS gives its
// KMS ciphertext.
package ssm

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// Scope is where a request runs: parameters are per region.
type Scope struct {
	Region string
}

// KnownRegion reports whether SSM serves a region here: those EC2 serves.
func KnownRegion(name string) bool { return ec2sim.KnownRegion(name) }

// MaxParameters bounds the parameters of a region, the quota of standard
// parameters of an AWS account (advanced ones are 100,000 on AWS: here both
// count against this one bound, which keeps the database of this machine
// small: a parameter keeps up to 100 versions of up to 8 KiB).
const MaxParameters = 10000

// Service is the Parameter Store of one account.
type Service struct {
	account string
	now     func() time.Time
	log     *slog.Logger
	max     int

	storageOpts []storage.Option

	// mu guards the table and every transaction on it; it is a leaf.
	mu     sync.Mutex
	db     *storage.DB
	params *storage.Table[paramRec] // by key (paramKey)
}

// Option configures a Service.
type Option func(*Service)

// WithAccount sets the account of the parameters' ARNs (default 000000000000).
func WithAccount(id string) Option { return func(s *Service) { s.account = id } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock of LastModifiedDate (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithMaxParameters sets the bound on a region's parameters (default MaxParameters).
func WithMaxParameters(n int) Option { return func(s *Service) { s.max = n } }

// WithStorage passes options to the storage engine (tests: storage.CheckInPlace).
func WithStorage(opts ...storage.Option) Option {
	return func(s *Service) { s.storageOpts = append(s.storageOpts, opts...) }
}

var paramKind = storage.Kind[paramRec]{Name: "ssm.parameter", ID: func(r *paramRec) string { return r.Key }}

// New loads the Parameter Store from store.
func New(store vpcsim.Store, opts ...Option) (*Service, error) {
	s := &Service{account: "000000000000", now: time.Now, log: slog.Default(), max: MaxParameters}
	for _, o := range opts {
		o(s)
	}
	s.db = storage.New(store, s.storageOpts...)
	t, err := storage.NewTable(s.db, paramKind)
	if err != nil {
		return nil, fmt.Errorf("load the SSM parameters: %w", err)
	}
	s.params = t
	return s, nil
}

// Error is a refusal the SSM API gives: the exception's name (its __type)
// and message. NoMessage leaves the message out, as SSM does for
// ParameterNotFound. InternalServerError is a fault of ours (HTTP 500); the
// rest are HTTP 400.
type Error struct {
	Type      string // "ParameterNotFound", "ValidationException", …
	Message   string
	NoMessage bool
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// AsError reports whether err is (or wraps) an SSM Error.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

func validation(format string, args ...any) *Error {
	return errorf("ValidationException", format, args...)
}

// bare is an exception SSM sends without a message.
func bare(typ string) *Error { return &Error{Type: typ, NoMessage: true} }
