package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gokernels/gokernels/cluster/clustertest"
	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/ring"
)

// TestJoinAndLeaveMovePartitions starts one replica (it owns every
// partition), lets a second join (it becomes the desired owner of some
// partitions, which are handed over with a snapshot) and then closes the
// first gracefully (its partitions are released at once). Rings keep their
// state across both moves.
func TestJoinAndLeaveMovePartitions(t *testing.T) {
	nc := clustertest.StartNATS(t, 1)
	reg := testRegistry(t)
	opts := Options{Partitions: 4, Replicas: 1, LeaseTTL: time.Second, SnapshotEvery: 1000}
	first := startNodes(t, nc, reg, 1, opts)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	deadline := time.Now().Add(30 * time.Second)
	for len(first.Owned()) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("a lone replica owns %v, want all 4 partitions", first.Owned())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cfg := &orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{}}
	ids := []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"}
	msgs := orders(30, 11)
	seqs := map[string][]uint64{}
	send := func(n *Node, id string, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			for attempt := 0; ; attempt++ {
				c, cancel := context.WithTimeout(ctx, 2*time.Second)
				rep, err := n.Send(c, "default", id, ring.Message{Kind: ring.KindData, ClientID: "c", ClientSeq: uint64(i + 1),
					Payload: &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{msgs[i]}}})
				cancel()
				if err == nil && rep.Err == nil {
					seqs[id] = append(seqs[id], rep.Seq)
					break
				}
				if attempt > 20 {
					t.Fatalf("%s message %d: %v %v", id, i, err, rep.Err)
				}
			}
		}
	}
	for _, id := range ids {
		if _, err := first.Create(ctx, "default", id, "orderbook/matching", ring.Config{}, cfg); err != nil {
			t.Fatal(err)
		}
		send(first, id, 0, 10)
	}

	o := opts
	o.URL, o.Member, o.Logger = nc.URL(0), "joiner", testLogger()
	second, err := New(reg, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Close(context.Background()) })
	deadline = time.Now().Add(30 * time.Second)
	for len(second.Owned()) == 0 || len(first.Owned())+len(second.Owned()) != 4 {
		if time.Now().After(deadline) {
			t.Fatalf("after the join: first owns %v, joiner %v; want the joiner to take its share", first.Owned(), second.Owned())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range ids {
		send(second, id, 10, 20)
	}

	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	left := time.Now()
	for len(second.Owned()) != 4 {
		if time.Since(left) > 30*time.Second {
			t.Fatalf("after the leave the joiner owns %v, want all 4", second.Owned())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("partitions moved to the remaining replica %s after the graceful leave", time.Since(left).Round(time.Millisecond))
	for _, id := range ids {
		send(second, id, 20, 30)
		want := []uint64{}
		for i := range 30 {
			want = append(want, uint64(i+2))
		}
		if !slices.Equal(seqs[id], want) {
			t.Fatalf("%s acknowledged seqs %v, want 2..31 in order", id, seqs[id])
		}
		checkBook(t, ctx, second, "default", id, cfg, msgs, seqs[id], 30)
	}
}
