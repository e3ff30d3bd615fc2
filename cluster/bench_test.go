package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gokernels/gokernels/cluster/clustertest"
	orderbookv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/orderbook/v1"
	"github.com/gokernels/gokernels/ring"
)

// BenchmarkSend compares acknowledged orderbook messages per second with
// 32 concurrent senders: cluster mode (three embedded JetStream servers,
// R3, client on a replica that does not own the ring) against the
// single-node runtime with JOURNAL durability (group-commit fsync) in the
// same run. Report the ratio of the two ns/op figures:
//
//	go test ./cluster -run '^$' -bench Send -benchtime 3000x
func BenchmarkSend(b *testing.B) {
	const workers = 32
	msgs := orders(max(b.N, 1), 3)
	run := func(b *testing.B, send func(ctx context.Context, i int) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		b.ResetTimer()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= b.N {
						return
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					err := send(ctx, i)
					cancel()
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
	}
	data := func(i int) ring.Message {
		return ring.Message{Kind: ring.KindData, ClientID: "bench", ClientSeq: uint64(i + 1),
			Payload: &orderbookv1.MatchingInput{Messages: []*orderbookv1.OrderMessage{msgs[i%len(msgs)]}}}
	}
	reg := testRegistry(b)
	cfg := &orderbookv1.MatchingInput{Config: &orderbookv1.MatchingConfig{}}

	b.Run("journal-single-node", func(b *testing.B) {
		rt, err := ring.New(reg, ring.Options{Dir: b.TempDir(), IdleTimeout: -1, Development: true})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { _ = rt.Shutdown(context.Background()) }()
		r, err := rt.Create(context.Background(), "default", "bench", "orderbook/matching",
			ring.Config{Durability: ring.Journal, SnapshotEvery: 1 << 30}, cfg)
		if err != nil {
			b.Fatal(err)
		}
		run(b, func(ctx context.Context, i int) error {
			rep, err := r.Send(ctx, data(i))
			if err == nil && rep.Err != nil {
				err = rep.Err
			}
			return err
		})
	})
	b.Run("cluster-r3", func(b *testing.B) {
		nc := clustertest.StartNATS(b, 3)
		nodes := make([]*Node, 3)
		for i := range nodes {
			n, err := New(reg, Options{URL: nc.URL(i), Member: fmt.Sprintf("n%d", i), Partitions: 1, Replicas: 3,
				SnapshotEvery: 1 << 30, Logger: testLogger()})
			if err != nil {
				b.Fatal(err)
			}
			nodes[i] = n
			defer func() { _ = n.Close(context.Background()) }()
		}
		owner := waitOwner(b, nodes, 0, -1, 30*time.Second)
		client := nodes[(owner+1)%3]
		if _, err := client.Create(context.Background(), "default", fmt.Sprintf("bench-%d", b.N), "orderbook/matching", ring.Config{}, cfg); err != nil {
			b.Fatal(err)
		}
		run(b, func(ctx context.Context, i int) error {
			rep, err := client.Send(ctx, "default", fmt.Sprintf("bench-%d", b.N), data(i))
			if err == nil && rep.Err != nil {
				err = rep.Err
			}
			return err
		})
	})
}
