package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/kernels/catalog"
	"github.com/gokernels/gokernels/server/jsoninput"
)

var binary string

// TestMain builds the real binary once; these tests drive it as a user would.
// GOKERNELS_TEST_BINARY runs them against another build instead (a release,
// or an older commit to show that a test fails there).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gokernels-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gokernels")
	if b := os.Getenv("GOKERNELS_TEST_BINARY"); b != "" {
		binary = b
	} else if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building gokernels: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	cmd    *exec.Cmd
	http   string
	grpc   string
	logs   *bytes.Buffer
	exited chan error
}

// startBinary runs `gokernels serve` on random ports and waits for its
// "serving" log line, which names the bound addresses.
func startBinary(t *testing.T, env ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--log-format", "json")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &bytes.Buffer{}, exited: make(chan error, 1)}
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.logs.WriteString(line + "\n")
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "gokernels serving" {
				addrs <- [2]string{rec["http"].(string), rec["grpc"].(string)}
			}
		}
		p.exited <- cmd.Wait()
	}()
	select {
	case a := <-addrs:
		p.http, p.grpc = a[0], a[1]
	case err := <-p.exited:
		t.Fatalf("server exited at start: %v\n%s", err, p.logs)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", p.logs)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return p
}

// bigGraphInput is a random graph whose betweenness takes seconds on a
// small machine.
func bigGraphInput(n, m int) string {
	rng := rand.New(rand.NewSource(7))
	var b strings.Builder
	fmt.Fprintf(&b, `{"num_nodes": %d, "edges": [`, n)
	for i := 0; i < m; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		u, v := rng.Intn(n), rng.Intn(n)
		fmt.Fprintf(&b, "[%d,%d]", u, v)
	}
	b.WriteString("]}")
	return b.String()
}

func post(url, body string) (int, map[string]any, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, nil
}

func getStatus(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSIGTERMDrainsInFlightWork: readiness fails at once, the running
// execution completes with the right answer, new requests are refused after
// the grace period, and the process exits 0.
func TestSIGTERMDrainsInFlightWork(t *testing.T) {
	p := startBinary(t, "GOKERNELS_DRAIN_GRACE=1s", "GOKERNELS_DRAIN_TIMEOUT=60s")
	input := bigGraphInput(2500, 12000)
	body := `{"kernel_id": "graph/betweenness-centrality", "input": ` + input + `}`

	type result struct {
		code int
		body map[string]any
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, m, err := post("http://"+p.http+"/execute", body)
		done <- result{c, m, err}
	}()
	// Wait until the execution is running.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + p.http + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "gokernels_inflight_requests 1") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("execution never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if s := getStatus("http://" + p.http + "/health/ready"); s != 503 {
		t.Errorf("readiness during drain: %d, want 503", s)
	}
	if s := getStatus("http://" + p.http + "/health/live"); s != 200 {
		t.Errorf("liveness during drain: %d, want 200", s)
	}
	time.Sleep(1200 * time.Millisecond) // past the grace
	if c, _, err := post("http://"+p.http+"/execute", `{"kernel_id": "graph/density", "input": {"num_nodes": 2}}`); err == nil && c != 503 {
		t.Errorf("new request after the grace: %d, want 503", c)
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("in-flight execution never finished")
	}
	if r.err != nil || r.code != 200 {
		t.Fatalf("in-flight execution: %d %v %v", r.code, r.err, r.body)
	}
	// The right answer: the same kernel run in-process on the same input.
	want := runInProcess(t, "graph/betweenness-centrality", input)
	got := r.body["output"].(map[string]any)["scores"].([]any)
	if len(got) != len(want) {
		t.Fatalf("%d scores, want %d", len(got), len(want))
	}
	for i := range want {
		if d := got[i].(float64) - want[i]; d > 1e-9 || d < -1e-9 {
			t.Fatalf("score %d: %v, want %v", i, got[i], want[i])
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
}

func runInProcess(t *testing.T, id, input string) []float64 {
	reg, err := catalog.New()
	if err != nil {
		t.Fatal(err)
	}
	k, _ := reg.Get(id)
	in := k.NewInput()
	if err := jsoninput.Decode([]byte(input), in); err != nil {
		t.Fatal(err)
	}
	out, err := k.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*graphv1.BetweennessCentralityOutput).GetScores()
}

// TestCLI drives the client commands against the real binary and checks
// their output and exit codes.
func TestCLI(t *testing.T) {
	p := startBinary(t)
	run := func(stdin string, args ...string) (string, int) {
		cmd := exec.Command(binary, append(args, "--addr", p.grpc)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = io.Discard
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return out.String(), code
	}
	out, code := run("", "kernels", "list", "--domain", "graph")
	if code != 0 || !strings.Contains(out, "graph/pagerank") || strings.Contains(out, "ml/") {
		t.Fatalf("kernels list: %d\n%s", code, out)
	}
	out, code = run("", "kernels", "info", "graph/pagerank", "--output", "json")
	var info map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info["input_type"] != "gokernels.kernels.graph.v1.PageRankInput" {
		t.Fatalf("kernels info: %d\n%s", code, out)
	}
	out, code = run(`{"num_nodes": 4, "edges": [[0, 1], [1, 2], [2, 3], [0, 3]], "normalized": true}`,
		"exec", "graph/betweenness-centrality", "--output", "json")
	var resp map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &resp) != nil {
		t.Fatalf("exec: %d\n%s", code, out)
	}
	scores := resp["output"].(map[string]any)["scores"].([]any)
	if len(scores) != 4 || scores[0].(float64)-1.0/6 > 1e-12 || 1.0/6-scores[0].(float64) > 1e-12 {
		t.Fatalf("exec scores %v, want 1/6 each", scores)
	}
	if _, code = run("", "kernels", "info", "graph/nope"); code != exitNotFound {
		t.Errorf("unknown kernel exit %d, want %d", code, exitNotFound)
	}
	if _, code = run(`{"num_nodes": 0}`, "exec", "graph/pagerank"); code != exitInvalid {
		t.Errorf("bad input exit %d, want %d", code, exitInvalid)
	}
	if out, code = run("", "health"); code != 0 || !strings.Contains(out, "healthy") {
		t.Errorf("health: %d %s", code, out)
	}
	// A server that is not there: unavailable.
	cmd := exec.Command(binary, "health", "--addr", "127.0.0.1:1", "--timeout", "2s")
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || (ee.ExitCode() != exitUnavailable && ee.ExitCode() != exitDeadline) {
		t.Errorf("health against nothing: %v", err)
	}
}

func TestInvalidConfigStopsStartup(t *testing.T) {
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "GOKERNELS_MAX_QUEUE=lots")
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "GOKERNELS_MAX_QUEUE") {
		t.Fatalf("exit %v, output %s", err, out)
	}
}
