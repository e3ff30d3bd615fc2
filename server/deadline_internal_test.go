package server

import (
	"context"
	"testing"
	"time"
)

// TestBoundDeadline: no deadline gets the default; a client deadline within
// the cap is kept as it is (the same context, not a copy); a later one is
// cut to the cap.
func TestBoundDeadline(t *testing.T) {
	const def, maxT = 30 * time.Second, time.Minute

	ctx, cancel := boundDeadline(context.Background(), def, maxT)
	dl, ok := ctx.Deadline()
	cancel()
	if !ok || time.Until(dl) > def || time.Until(dl) < def-5*time.Second {
		t.Errorf("no client deadline: got %v (ok %v), want about %v", time.Until(dl), ok, def)
	}

	client, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer ccancel()
	ctx, cancel = boundDeadline(client, def, maxT)
	cancel()
	if ctx != client {
		t.Error("a client deadline within the cap must be used as it is (fast path), not wrapped")
	}
	if client.Err() != nil {
		t.Error("the fast path's cancel must not cancel the client's context")
	}

	late, lcancel := context.WithTimeout(context.Background(), time.Hour)
	defer lcancel()
	ctx, cancel = boundDeadline(late, def, maxT)
	defer cancel()
	dl, _ = ctx.Deadline()
	if time.Until(dl) > maxT || time.Until(dl) < maxT-5*time.Second {
		t.Errorf("client deadline beyond the cap: %v left, want about %v", time.Until(dl), maxT)
	}
}
