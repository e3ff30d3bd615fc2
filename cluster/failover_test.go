package cluster

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gokernels/gokernels/cluster/clustertest"
	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/ring"
)

// stream sends msgs[from:to] through node with client_seq = index+1 from
// workers goroutines, retrying each message with the same client_seq until
// it is acknowledged; seqs[i] receives the ring seq of message i.
func stream(t *testing.T, node func() *Node, tenant, id string, msgs []*orderbookv1.OrderMessage, from, to, workers int,
	seqs []uint64, acked *atomic.Int64, retries *atomic.Int64) {
	t.Helper()
	next := make(chan int)
	var wg sync.WaitGroup
	deadline := time.Now().Add(4 * time.Minute)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				m := ring.Message{Kind: ring.KindData, ClientID: "trader-gw", ClientSeq: uint64(i + 1),
					Payload: &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{msgs[i]}}}
				for attempt := 0; ; attempt++ {
					if time.Now().After(deadline) {
						t.Errorf("message %d not acknowledged before the deadline", i)
						return
					}
					if attempt > 0 {
						retries.Add(1)
						time.Sleep(50 * time.Millisecond)
					}
					// Shorter than a failover: a message in flight when the
					// owner dies is retried, not just answered late.
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					rep, err := node().Send(ctx, tenant, id, m)
					cancel()
					if err != nil {
						continue // not acknowledged: retry with the same client_seq
					}
					if rep.Err != nil {
						t.Errorf("message %d: %v", i, rep.Err)
						return
					}
					seqs[i] = rep.Seq
					acked.Add(1)
					break
				}
			}
		}()
	}
	for i := from; i < to; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// TestOwnerKilledMidStream is the failover proof: three JetStream servers,
// three replicas; a client streams orderbook messages through a replica
// that does not own the ring while the owner is killed (no drain, no
// snapshot, no lease release). Ownership must move within 10 s, and after
// the client's retries with the same client_seq the book must equal the
// Batch engine over exactly the acknowledged messages, in the ring's
// order, each once. Then one of the three NATS servers is shut down and
// the ring must keep working.
func TestOwnerKilledMidStream(t *testing.T) {
	n := envInt("GOKERNELS_CLUSTER_MSGS", 6000)
	nc := clustertest.StartNATS(t, 3)
	reg := testRegistry(t)
	nodes := startNodes(t, nc, reg, 3, Options{Partitions: 2, Replicas: 3, LeaseTTL: 3 * time.Second, SnapshotEvery: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	const tenant, id = "default", "book"
	cfg := &orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{Symbols: []string{"AAA", "BBB"}}}
	p := nodes[0].Partition(tenant, id)
	waitOwner(t, nodes, p, -1, 30*time.Second) // the cluster is up
	if _, err := nodes[0].Create(ctx, tenant, id, "orderbook/matching", ring.Config{}, cfg); err != nil {
		t.Fatal(err)
	}
	// Let the start-up settle: the first replica up takes every partition
	// and hands each to its rendezvous owner once all members are seen.
	owner := waitSettled(t, nodes, p, 60*time.Second)
	client := (owner + 1) % 3
	t.Logf("ring partition %d owned by %s; client sends through %s; %d messages", p, nodes[owner].Member(),
		nodes[client].Member(), n)

	msgs := orders(n, 42)
	seqs := make([]uint64, n)
	var acked, retries atomic.Int64
	killed := make(chan time.Time, 1)
	go func() {
		for acked.Load() < int64(n/3) {
			time.Sleep(time.Millisecond)
		}
		if now := waitOwner(t, nodes, p, -1, time.Second); now != owner {
			t.Errorf("partition %d moved from %s to %s before the kill", p, nodes[owner].Member(), nodes[now].Member())
		}
		at := time.Now()
		nodes[owner].Kill()
		killed <- at
	}()
	start := time.Now()
	stream(t, func() *Node { return nodes[client] }, tenant, id, msgs, 0, n, 32, seqs, &acked, &retries)
	elapsed := time.Since(start)
	if t.Failed() {
		return
	}
	killAt := <-killed
	newOwner := waitOwner(t, nodes, p, owner, 30*time.Second)
	moved := nodes[newOwner].AcquiredAt(p).Sub(killAt)
	t.Logf("owner %s killed after %d acks; %s took over after %s; %d messages in %s (%.0f msg/s), %d retries",
		nodes[owner].Member(), n/3, nodes[newOwner].Member(), moved.Round(time.Millisecond), n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), retries.Load())
	if moved <= 0 || moved > 10*time.Second {
		t.Errorf("ownership moved %s after the kill; want within 10s", moved)
	}
	if retries.Load() == 0 {
		t.Errorf("no message needed a retry: the kill did not hit the stream")
	}
	checkBook(t, ctx, nodes[client], tenant, id, cfg, msgs, seqs, n)

	// A retry of an acknowledged message returns its original seq and is
	// not applied again.
	last := n - 1
	rep, err := nodes[client].Send(ctx, tenant, id, ring.Message{Kind: ring.KindData, ClientID: "trader-gw",
		ClientSeq: uint64(last + 1), Payload: &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{msgs[last]}}})
	if err != nil || rep.Err != nil || !rep.Duplicate || rep.Seq != seqs[last] {
		t.Fatalf("retry of client_seq %d: %+v, %v; want duplicate with seq %d", last+1, rep, err, seqs[last])
	}
	checkBook(t, ctx, nodes[client], tenant, id, cfg, msgs, seqs, n)

	// One NATS server of three goes away: the ring keeps working through
	// the other two (quorum 2 of 3).
	lost := 0
	nc.Servers[lost].Shutdown()
	more := orders(n+500, 42)[n:]
	all := append(slices.Clone(msgs), more...)
	seqs = append(seqs, make([]uint64, len(more))...)
	survivors := []*Node{nodes[(owner+1)%3], nodes[(owner+2)%3]}
	var pick atomic.Int64
	acked.Store(0)
	stream(t, func() *Node { return survivors[pick.Add(1)%2] }, tenant, id, all, n, n+len(more), 8, seqs, &acked, &retries)
	if t.Failed() {
		return
	}
	checkBook(t, ctx, survivors[0], tenant, id, cfg, all, seqs, len(all))
}

// waitSettled waits until partition p is owned by its rendezvous owner
// over all live nodes, so that no hand-over follows.
func waitSettled(t *testing.T, nodes []*Node, p int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		owner := waitOwner(t, nodes, p, -1, within)
		n := nodes[0]
		n.mu.Lock()
		live := 0
		for _, seen := range n.members {
			if time.Since(seen) <= n.opts.LeaseTTL {
				live++
			}
		}
		desired := n.desiredLocked(p, time.Now())
		n.mu.Unlock()
		if live == len(nodes) && desired == nodes[owner].Member() {
			return owner
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("partition %d did not settle on its rendezvous owner within %s", p, within)
	return -1
}

// checkBook compares the ring's Snapshot with the Batch kernel over the
// acknowledged messages ordered by the seq each was acknowledged with.
func checkBook(t *testing.T, ctx context.Context, node *Node, tenant, id string, cfg *orderbookv1.MatchingInput,
	msgs []*orderbookv1.OrderMessage, seqs []uint64, n int) {
	t.Helper()
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return int(seqs[a]) - int(seqs[b]) })
	for k, i := range order {
		// Configure is seq 1; data messages follow with no gap and no repeat.
		if want := uint64(k + 2); seqs[i] != want {
			t.Fatalf("acknowledged seqs are not 2..%d without gaps: message %d has seq %d, want %d", n+1, i, seqs[i], want)
		}
	}
	ref := &orderbookv1.MatchingInput{Config: cfg.GetConfig()}
	for _, i := range order {
		ref.Messages = append(ref.Messages, msgs[i])
	}
	k, _ := node.Registry().Get("orderbook/matching")
	want, err := k.Run(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := node.Send(ctx, tenant, id, ring.Message{Kind: ring.KindSnapshot})
	if err != nil || rep.Err != nil {
		t.Fatalf("snapshot: %v %v", err, rep.Err)
	}
	if rep.Seq != uint64(n+1) {
		t.Errorf("ring seq %d, want %d (configure + %d messages)", rep.Seq, n+1, n)
	}
	got := rep.Output.(*orderbookv1.MatchingOutput)
	if !proto.Equal(got, want) {
		t.Fatalf("the ring's book differs from the Batch engine over the acknowledged messages (%d events vs %d)",
			len(got.GetEvents()), len(want.(*orderbookv1.MatchingOutput).GetEvents()))
	}
	if len(got.GetEvents()) < n || got.GetMatches() == 0 {
		t.Fatalf("degenerate book: %d events, %d matches", len(got.GetEvents()), got.GetMatches())
	}
}
