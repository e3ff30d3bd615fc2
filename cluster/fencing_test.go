package cluster

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gokernels/gokernels/cluster/clustertest"
	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/ring"
)

// TestPausedOwnerIsFenced freezes the owner (no renewals, no applies, as
// SIGSTOP would) past its lease. Another replica takes the partition and
// writes snapshots; when the old owner resumes, a snapshot write with the
// revision it still holds is refused by the JetStream stream leader, the
// stored snapshot is the new owner's, the old owner gives the partition up
// and the ring's state has every message once.
func TestPausedOwnerIsFenced(t *testing.T) {
	nc := clustertest.StartNATS(t, 3)
	reg := testRegistry(t)
	nodes := startNodes(t, nc, reg, 2, Options{Partitions: 1, Replicas: 3, LeaseTTL: 2 * time.Second, SnapshotEvery: 5})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const tenant, id = "default", "fence"
	// Every replica's reads of the bucket go to the stream leader (see
	// leaderReads): the snapshot revisions read below never go back.
	for i, nd := range nodes {
		st, err := nd.js.Stream(ctx, kvStream(nd.bucket))
		if err != nil || st.CachedInfo().Config.AllowDirect {
			t.Fatalf("node %d: the bucket's stream allows direct gets (%v)", i, err)
		}
	}
	old := waitOwner(t, nodes, 0, -1, 30*time.Second)
	other := 1 - old
	cfg := &orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{}}
	if _, err := nodes[other].Create(ctx, tenant, id, "orderbook/matching", ring.Config{}, cfg); err != nil {
		t.Fatal(err)
	}
	msgs := orders(40, 7)
	seqs := make([]uint64, len(msgs))
	send := func(i int) {
		t.Helper()
		for attempt := 0; ; attempt++ {
			c, cancel := context.WithTimeout(ctx, 2*time.Second)
			rep, err := nodes[other].Send(c, tenant, id, ring.Message{Kind: ring.KindData, ClientID: "c", ClientSeq: uint64(i + 1),
				Payload: &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{msgs[i]}}})
			cancel()
			if err == nil && rep.Err == nil {
				seqs[i] = rep.Seq
				return
			}
			if attempt > 30 || (err == nil && rep.Err != nil) {
				t.Fatalf("message %d: %v %v", i, err, rep.Err)
			}
		}
	}
	for i := range 20 {
		send(i)
	}

	nodes[old].mu.Lock()
	zombie := nodes[old].owned[0]
	nodes[old].mu.Unlock()
	if zombie == nil {
		t.Fatal("the owner lost its partition before the pause")
	}
	zombie.mu.Lock()
	heldRev := zombie.rev
	zombie.mu.Unlock()

	nodes[old].Freeze()
	waitOwner(t, nodes, 0, old, 20*time.Second)
	for i := 20; i < 40; i++ {
		send(i)
	}
	key := snapKey(0, tenant, id)
	before, err := nodes[other].kv.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}

	nodes[old].Unfreeze()
	// The resumed owner still believes it holds revision heldRev. Its
	// write, made as the apply loop would make it, must be refused by the
	// server (the local lost flag is cleared to be sure the server, not
	// the replica's own bookkeeping, refuses it).
	stale := &partition{n: nodes[old], idx: 0, rev: heldRev}
	err = stale.writeSnapshot(ctx, tenant, id, 1<<40, []byte(`{"version":1}`))
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("stale owner's snapshot write: %v, want ErrFenced", err)
	}
	after, err := nodes[other].kv.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if after.Revision() < before.Revision() || string(after.Value()[8:]) == `{"version":1}` {
		t.Fatalf("the stale owner's snapshot landed (revision %d -> %d)", before.Revision(), after.Revision())
	}
	// The resumed owner notices and lets go.
	deadline := time.Now().Add(10 * time.Second)
	for slices.Contains(nodes[old].Owned(), 0) {
		if time.Now().After(deadline) {
			t.Fatal("the resumed owner still claims the partition")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if o := nodes[other].Owner(0); o != nodes[other].Member() {
		t.Fatalf("partition owner is %q, want %s", o, nodes[other].Member())
	}
	checkBook(t, ctx, nodes[other], tenant, id, cfg, msgs, seqs, len(msgs))
}
