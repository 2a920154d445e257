package ecsjson

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/storage"
)

// TestStoreFull: a change the data directory had no room for answers
// ServerException (500) naming the directory; another fault says nothing of
// its cause.
func TestStoreFull(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	full := &storage.FullError{Dir: "/data", Reason: "is full (no space left on device)", Err: errors.New("database or disk is full")}
	got := toAPIError(context.Background(), log, "RunTask", fmt.Errorf("store: %w", full))
	if got.Status != 500 || got.Type != "ServerException" || !strings.Contains(got.Message, "data directory /data is full") {
		t.Errorf("full store: %+v", got)
	}
	got = toAPIError(context.Background(), log, "RunTask", errors.New("boom"))
	if got.Status != 500 || got.Type != "ServerException" || got.Message != serverFaultMessage {
		t.Errorf("a fault: %+v", got)
	}
}
