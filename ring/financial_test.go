package ring_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/gokernels/gokernels/kernels/clearing"
	"github.com/gokernels/gokernels/kernels/orderbook"
	"github.com/gokernels/gokernels/kernels/payments"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring"
)

// Issue 15: the financial kernels keep money and positions, so with a
// data directory they run only with JOURNAL durability — NONE and SNAPSHOT
// are refused (FAILED_PRECONDITION, RING_DURABILITY) outside development,
// the default durability is JOURNAL, and development allows the others.
// Every id listed in ring.FinancialKernels is served (it has a handler).
func TestFinancialKernelsNeedJournal(t *testing.T) {
	reg := registry.New()
	for _, f := range []func(*registry.Registry) error{orderbook.Register, clearing.Register, payments.Register} {
		if err := f(reg); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	open := func(dev bool) *ring.Runtime {
		rt, err := ring.New(reg, ring.Options{Dir: t.TempDir(), Development: dev, IdleTimeout: -1, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			_ = rt.Shutdown(c)
		})
		return rt
	}
	prod, dev := open(false), open(true)
	for _, id := range ring.FinancialKernels {
		k, ok := reg.Get(id)
		if !ok {
			t.Fatalf("%s is not registered", id)
		}
		if _, ok := k.RingHandler(); !ok {
			t.Fatalf("%s has no ring handler", id)
		}
		for _, d := range []ring.Durability{ring.None, ring.Snapshot} {
			_, err := prod.Create(ctx, "t", "x", id, ring.Config{Durability: d}, nil)
			var re *ring.Error
			if !errors.As(err, &re) || re.Code != codes.FailedPrecondition || re.Reason != ring.ReasonDurability {
				t.Errorf("%s with %s in production: %v, want FAILED_PRECONDITION %s", id, d, err, ring.ReasonDurability)
			}
			r, err := dev.Create(ctx, "t", "dev-"+strings.ToLower(d.String()), id, ring.Config{Durability: d}, nil)
			if err != nil {
				t.Errorf("%s with %s in development: %v", id, d, err)
			} else {
				_ = dev.Delete("t", r.ID)
			}
		}
		r, err := prod.Create(ctx, "t", "j", id, ring.Config{}, nil)
		if err != nil {
			t.Fatalf("%s with the default durability: %v", id, err)
		}
		if got := r.Info().Durability; got != ring.Journal {
			t.Errorf("%s default durability %s, want JOURNAL", id, got)
		}
		if err := prod.Delete("t", "j"); err != nil {
			t.Fatal(err)
		}
	}
}
