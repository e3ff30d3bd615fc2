package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/cluster/clustertest"
	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/kernels/fold"
	"github.com/gokernels/gokernels/kernels/orderbook"
	"github.com/gokernels/gokernels/kernels/registry"
)

// The harness: an embedded JetStream cluster (clustertest) and cluster
// nodes connected to it, each to a different first server.

// testRegistry serves orderbook/matching with a ring handler that keeps
// the messages and answers Snapshot with the Batch kernel over them (the
// replay law by construction): a retry applied twice or a message lost
// would change the book, the event log and the order table.
func testRegistry(t testing.TB) *registry.Registry {
	t.Helper()
	r := registry.New()
	if err := orderbook.Register(r); err != nil {
		t.Fatal(err)
	}
	k, _ := r.Get("orderbook/matching")
	if err := r.AddRing(k.ID, replayRing(k).New); err != nil {
		t.Fatal(err)
	}
	r.Freeze()
	return r
}

// replayState is the test ring's state: the configuration and every
// message, in deterministic proto encoding.
type replayState struct {
	Cfg  []byte   `json:"cfg"`
	Msgs [][]byte `json:"msgs"`
}

var deterministic = proto.MarshalOptions{Deterministic: true}

// replayRing keeps the order messages (O(1) per message) and answers
// Snapshot with k's Batch function over all of them.
func replayRing(k *registry.Kernel) fold.Spec[*orderbookv1.MatchingInput, *orderbookv1.MatchingOutput, replayState] {
	return fold.Spec[*orderbookv1.MatchingInput, *orderbookv1.MatchingOutput, replayState]{
		Configure: func(_ context.Context, in *orderbookv1.MatchingInput) (*replayState, error) {
			if len(in.GetMessages()) > 0 {
				return nil, fmt.Errorf("messages in Configure")
			}
			cfg, err := deterministic.Marshal(in)
			return &replayState{Cfg: cfg}, err
		},
		Apply: func(_ fold.Context, s *replayState, in *orderbookv1.MatchingInput) error {
			if in.GetConfig() != nil {
				return fmt.Errorf("config in a data message")
			}
			for _, m := range in.GetMessages() {
				b, err := deterministic.Marshal(m)
				if err != nil {
					return err
				}
				s.Msgs = append(s.Msgs, b)
			}
			return nil
		},
		Snapshot: func(ctx context.Context, s *replayState) (*orderbookv1.MatchingOutput, error) {
			in := &orderbookv1.MatchingInput{}
			if err := proto.Unmarshal(s.Cfg, in); err != nil {
				return nil, err
			}
			for _, b := range s.Msgs {
				m := &orderbookv1.OrderMessage{}
				if err := proto.Unmarshal(b, m); err != nil {
					return nil, err
				}
				in.Messages = append(in.Messages, m)
			}
			out, err := k.Run(ctx, in)
			if err != nil {
				return nil, err
			}
			return out.(*orderbookv1.MatchingOutput), nil
		},
		Split: func(in *orderbookv1.MatchingInput) (*orderbookv1.MatchingInput, []*orderbookv1.MatchingInput) {
			out := make([]*orderbookv1.MatchingInput, len(in.GetMessages()))
			for i, m := range in.GetMessages() {
				out[i] = &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{m}}
			}
			return &orderbookv1.MatchingInput{Config: in.GetConfig()}, out
		},
	}
}

func testLogger() *slog.Logger {
	if os.Getenv("GOKERNELS_CLUSTER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startNodes(t *testing.T, nc *clustertest.NATS, reg *registry.Registry, n int, opts Options) []*Node {
	t.Helper()
	nodes := make([]*Node, n)
	for i := range nodes {
		o := opts
		o.URL, o.Member, o.Logger = nc.URL(i), fmt.Sprintf("n%d", i), testLogger()
		node, err := New(reg, o)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = node
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = node.Close(ctx)
		})
	}
	return nodes
}

// waitOwner waits until partition p has a live owner among nodes (its
// index), other than skip.
func waitOwner(t testing.TB, nodes []*Node, p int, skip int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for i, n := range nodes {
			if i == skip || n.closed.Load() {
				continue
			}
			for _, q := range n.Owned() {
				if q == p {
					return i
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("partition %d has no owner after %s", p, within)
	return -1
}

// orders generates a reproducible stream of limit orders, cancels and
// modifies on two symbols around a drifting mid price, so that orders
// cross, rest, partially fill and get cancelled.
func orders(n int, seed uint64) []*orderbookv1.OrderMessage {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]*orderbookv1.OrderMessage, 0, n)
	mid := int64(10000)
	for i := range n {
		id := uint64(i + 1)
		switch r := rng.IntN(10); {
		case r < 7 || i < 10:
			side := "BUY"
			if rng.IntN(2) == 0 {
				side = "SELL"
			}
			mid += int64(rng.IntN(5)) - 2
			out = append(out, &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Submit{Submit: &orderbookv1.Submit{
				OrderId: id, Symbol: []string{"AAA", "BBB"}[rng.IntN(2)], TraderId: "t" + strconv.Itoa(rng.IntN(50)),
				Side: side, Type: "LIMIT", Price: mid + int64(rng.IntN(21)) - 10, Qty: int64(1 + rng.IntN(100)), Tif: "GTC"}}})
		case r < 9:
			out = append(out, &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Cancel{Cancel: &orderbookv1.Cancel{
				OrderId: uint64(1 + rng.IntN(i))}}})
		default:
			out = append(out, &orderbookv1.OrderMessage{Msg: &orderbookv1.OrderMessage_Modify{Modify: &orderbookv1.Modify{
				OrderId: uint64(1 + rng.IntN(i)), Qty: int64(1 + rng.IntN(100))}}})
		}
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
