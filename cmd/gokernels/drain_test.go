package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

// waitMetrics polls /metrics until it contains every line in want.
func waitMetrics(t *testing.T, p *proc, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + p.http + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(string(b), w)
			}
			if ok {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %q\n%s", want, p.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type answer struct {
	ok     bool
	detail string
	lens   map[string]int // output list lengths
}

// TestSIGTERMAnswersRunningAndQueued: with one worker, a running request
// and one queued behind it at SIGTERM (no grace) both get their complete
// answer — over REST, where the gateway writes the body after the gRPC
// handler returned, and over native gRPC — and the process exits 0.
func TestSIGTERMAnswersRunningAndQueued(t *testing.T) {
	running := `{"kernel_id": "graph/betweenness-centrality", "input": ` + bigGraphInput(1500, 8000) + `}`
	const nodes = 1_500_000 // a ~20 MB JSON answer: rendering and writing it takes a while
	queued := `{"kernel_id": "graph/degree-ratio", "input": {"num_nodes": 1500000, "edges": [[0, 1]]}}`
	for _, transport := range []string{"rest", "grpc"} {
		t.Run(transport, func(t *testing.T) {
			p := startBinary(t, "GOKERNELS_DRAIN_GRACE=0s", "GOKERNELS_DRAIN_TIMEOUT=60s", "GOKERNELS_MAX_CONCURRENCY=1")
			call := func(body string) answer {
				if transport == "rest" {
					resp, err := http.Post("http://"+p.http+"/execute", "application/json", strings.NewReader(body))
					if err != nil {
						return answer{detail: err.Error()}
					}
					defer resp.Body.Close()
					raw, err := io.ReadAll(resp.Body)
					if err != nil || resp.StatusCode != 200 {
						return answer{detail: fmt.Sprintf("%s %.300s %v", resp.Status, raw, err)}
					}
					var m struct{ Output map[string]any }
					if err := json.Unmarshal(raw, &m); err != nil {
						return answer{detail: "incomplete JSON: " + err.Error()}
					}
					l := map[string]int{}
					for k, v := range m.Output {
						if list, ok := v.([]any); ok {
							l[k] = len(list)
						}
					}
					return answer{ok: true, lens: l}
				}
				conn, err := grpc.NewClient(p.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()),
					grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30)))
				if err != nil {
					return answer{detail: err.Error()}
				}
				defer conn.Close()
				var req gokernelsv1.ExecuteRequest
				if err := protojson.Unmarshal([]byte(body), &req); err != nil {
					return answer{detail: err.Error()}
				}
				req.Metadata = &gokernelsv1.ExecuteOptions{TypedOutput: true}
				resp, err := gokernelsv1.NewKernelServiceClient(conn).Execute(context.Background(), &req)
				if err != nil {
					return answer{detail: err.Error()}
				}
				out, err := resp.GetTypedOutput().UnmarshalNew()
				if err != nil {
					return answer{detail: err.Error()}
				}
				l := map[string]int{}
				out.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
					if fd.IsList() {
						l[string(fd.Name())] = v.List().Len()
					}
					return true
				})
				return answer{ok: true, lens: l}
			}
			first, second := make(chan answer, 1), make(chan answer, 1)
			go func() { first <- call(running) }()
			waitMetrics(t, p, "gokernels_inflight_requests 1")
			go func() { second <- call(queued) }()
			waitMetrics(t, p, "gokernels_queue_depth 1")
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			for name, ch := range map[string]chan answer{"running": first, "queued": second} {
				select {
				case a := <-ch:
					if !a.ok {
						t.Errorf("%s request: %s", name, a.detail)
					} else if name == "running" && a.lens["scores"] != 1500 {
						t.Errorf("running request: %v", a.lens)
					} else if name == "queued" && (a.lens["in_degree"] != nodes || a.lens["ratio"] != nodes) {
						t.Errorf("queued request: incomplete output %v", a.lens)
					}
				case <-time.After(3 * time.Minute):
					t.Fatalf("%s request never answered", name)
				}
			}
			select {
			case err := <-p.exited:
				if err != nil {
					t.Fatalf("exit: %v\n%s", err, p.logs)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("process did not exit after the drain")
			}
		})
	}
}

// TestDrainTimeoutExitsZeroNamingWhatWasCut: when the drain timeout runs
// out the process logs the requests it cut and exits 0, as the README says.
func TestDrainTimeoutExitsZeroNamingWhatWasCut(t *testing.T) {
	p := startBinary(t, "GOKERNELS_DRAIN_GRACE=0s", "GOKERNELS_DRAIN_TIMEOUT=300ms")
	body := `{"kernel_id": "graph/betweenness-centrality", "input": ` + bigGraphInput(2500, 30000) + `}`
	go func() { _, _, _ = post("http://"+p.http+"/execute", body) }()
	waitMetrics(t, p, "gokernels_inflight_requests 1")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("exit after a drain timeout: %v, want 0\n%s", err, p.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("process did not exit after the drain timeout")
	}
	logs := p.logs.String()
	if !strings.Contains(logs, "drain timeout") || !strings.Contains(logs, "/execute") {
		t.Errorf("the log does not say what the drain cut:\n%s", logs)
	}
}
