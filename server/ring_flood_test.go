package server_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/ring/ringtest"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

// TestRingFlood sends ten times what a slow ring can hold at once: every
// answer is either the applied reply or RESOURCE_EXHAUSTED (429 with
// Retry-After over REST), never a hang or another error; afterwards the
// goroutines and the heap are back near their baseline.
func TestRingFlood(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, nil), ringRegistry(t), server.Options{})
	c := ringClient(t, srv.GRPCAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const capacity = 16
	r, err := c.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID, RingId: "flood",
		Durability: gokernelsv1.Durability_DURABILITY_NONE, MailboxCapacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	slow, _ := structpb.NewStruct(map[string]any{"sleep_ms": 5, "pairs": []any{[]any{1, 1}}})
	send := func() error {
		_, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: &gokernelsv1.RingRequest{Msg: &gokernelsv1.RingRequest_Data{Data: slow}}})
		return err
	}
	_ = send() // warm the connection
	runtime.GC()
	baseG := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse

	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[codes.Code]int{}
		for i := 0; i < 10*capacity; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := send()
				mu.Lock()
				counts[status.Code(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if counts[codes.OK]+counts[codes.ResourceExhausted] != 10*capacity || counts[codes.ResourceExhausted] == 0 || counts[codes.OK] < capacity {
			t.Fatalf("round %d: answers %v; want only OK (at least %d) and RESOURCE_EXHAUSTED", round, counts, capacity)
		}
	}
	// REST: 429 with Retry-After.
	var wg sync.WaitGroup
	var mu sync.Mutex
	got429, retryAfter := 0, ""
	for i := 0; i < 10*capacity; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post("http://"+srv.HTTPAddr()+"/"+r.GetName()+":send", "application/json",
				strings.NewReader(`{"data": {"sleep_ms": 5, "pairs": [[1, 1]]}}`))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			switch resp.StatusCode {
			case 200:
			case 429:
				got429++
				retryAfter = resp.Header.Get("Retry-After")
			default:
				t.Errorf("REST flood answered %d", resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	if got429 == 0 || retryAfter == "" {
		t.Fatalf("REST flood: %d answers 429, Retry-After %q", got429, retryAfter)
	}
	// Back to baseline once the mailbox is empty.
	deadline := time.Now().Add(10 * time.Second)
	for {
		in, err := c.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: r.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&ms)
		g := runtime.NumGoroutine()
		if in.GetMailboxDepth() == 0 && g <= baseG+8 && ms.HeapInuse <= baseHeap+8<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the flood: goroutines %d (baseline %d), heap %d MiB (baseline %d MiB), mailbox %d",
				g, baseG, ms.HeapInuse>>20, baseHeap>>20, in.GetMailboxDepth())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
