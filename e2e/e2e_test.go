// Package e2e_test drives the real gokernels binary with the real client
// tools a user reaches for: grpcurl, grpc-health-probe and curl, the README's
// Quick start commands, and the OpenAPI spec's operations and examples.
//
// TestMain builds bin/gokernels from this tree and grpcurl and
// grpc-health-probe from the separate tools module tools/e2e (pinned in its
// go.mod). A tool that cannot be built fails the run: nothing is skipped.
package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	graphv1 "github.com/gokernels/gokernels/gen/gokernels/kernels/graph/v1"
	"github.com/gokernels/gokernels/internal/fixture"
)

var (
	repoRoot    string // the main module's root
	gokernels   string // built binary
	grpcurl     string // built from tools/e2e
	healthProbe string // built from tools/e2e
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	dir, err := os.MkdirTemp("", "gokernels-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gokernels = filepath.Join(dir, "gokernels")
	grpcurl = filepath.Join(dir, "grpcurl")
	healthProbe = filepath.Join(dir, "grpc-health-probe")

	builds := []struct {
		what, dir string
		args      []string
	}{
		{"gokernels", repoRoot, []string{"build", "-o", gokernels, "./cmd/gokernels"}},
		// The tools module pins grpcurl and grpc-health-probe with `tool` lines.
		{"grpcurl and grpc-health-probe (tools/e2e)", filepath.Join(repoRoot, "tools", "e2e"), []string{
			"build", "-o", dir + string(filepath.Separator),
			"github.com/fullstorydev/grpcurl/cmd/grpcurl",
			"github.com/grpc-ecosystem/grpc-health-probe",
		}},
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("go", b.args...)
			cmd.Dir = b.dir
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("building %s: go %s: %v\n%s", b.what, strings.Join(b.args, " "), err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	for _, bin := range []string{gokernels, grpcurl, healthProbe} {
		if _, err := os.Stat(bin); err != nil {
			fmt.Fprintln(os.Stderr, "build produced no binary:", err)
			return 1
		}
	}
	return m.Run()
}

type server struct {
	http, grpc string // 127.0.0.1:port
	logs       *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) WriteString(v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(v)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs `gokernels serve` on random 127.0.0.1 ports and waits for
// its "gokernels serving" log line, which names the bound addresses.
func startServer(t *testing.T) *server {
	t.Helper()
	cmd := exec.Command(gokernels, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0", "--log-format", "json")
	// Durable rings write under the data dir: one per server, removed after.
	cmd.Env = append(os.Environ(), "GOKERNELS_DRAIN_GRACE=0s", "GOKERNELS_DATA_DIR="+t.TempDir())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{logs: &syncBuffer{}}
	addrs := make(chan [2]string, 1)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "gokernels serving" {
				h, _ := rec["http"].(string)
				g, _ := rec["grpc"].(string)
				addrs <- [2]string{h, g}
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		if t.Failed() {
			t.Logf("server log:\n%s", s.logs)
		}
	})
	select {
	case a := <-addrs:
		s.http, s.grpc = a[0], a[1]
	case err := <-exited:
		t.Fatalf("server exited at start: %v\n%s", err, s.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not start in 60s:\n%s", s.logs)
	}
	if s.http == "" || s.grpc == "" {
		t.Fatalf("serving line without addresses:\n%s", s.logs)
	}
	return s
}

// runTool runs a command with a deadline; it returns combined output and the
// exit code (-1 when it could not run).
func runTool(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	if err == nil {
		return out.String(), 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	return "", -1
}

const cycle4Request = `{"kernel_id":"graph/betweenness-centrality","input":{"num_nodes":4,"edges":[[0,1],[1,2],[2,3],[0,3]],"normalized":true}}`

// checkSixths asserts an Execute response (JSON, either field-name style)
// holds the 4-cycle's betweenness: 1/6 for each node.
func checkSixths(t *testing.T, raw string) {
	t.Helper()
	var resp struct {
		Output struct {
			Scores []float64 `json:"scores"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(raw), &resp); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, raw)
	}
	if len(resp.Output.Scores) != 4 {
		t.Fatalf("want 4 scores, got %v\n%s", resp.Output.Scores, raw)
	}
	for i, s := range resp.Output.Scores {
		if math.Abs(s-1.0/6) > 1e-12 {
			t.Errorf("score %d = %v, want 1/6", i, s)
		}
	}
}

func TestGrpcurl(t *testing.T) {
	s := startServer(t)

	// Both ports speak gRPC: the native one and the REST one (h2c).
	for _, addr := range []string{s.grpc, s.http} {
		out, code := runTool(t, grpcurl, "-plaintext", addr, "list")
		if code != 0 {
			t.Fatalf("grpcurl list %s: exit %d\n%s", addr, code, out)
		}
		for _, svc := range []string{"gokernels.v1.KernelService", "gokernels.v1.HealthService", "gokernels.v1.MetricsService",
			"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"} {
			if !slices.Contains(strings.Fields(out), svc) {
				t.Errorf("grpcurl list %s: no %s in\n%s", addr, svc, out)
			}
		}
	}

	out, code := runTool(t, grpcurl, "-plaintext", s.grpc, "describe", "gokernels.v1.KernelService")
	if code != 0 {
		t.Fatalf("grpcurl describe: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		"rpc Execute ( .gokernels.v1.ExecuteRequest ) returns ( .gokernels.v1.ExecuteResponse )",
		"rpc ListKernels ( .gokernels.v1.ListKernelsRequest ) returns ( .gokernels.v1.ListKernelsResponse )",
		"rpc GetKernel ( .gokernels.v1.GetKernelRequest ) returns ( .gokernels.v1.GetKernelResponse )",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("grpcurl describe: no %q in\n%s", want, out)
		}
	}
	// Reflection serves the kernels' typed input messages too.
	out, code = runTool(t, grpcurl, "-plaintext", s.grpc, "describe", "gokernels.kernels.graph.v1.BetweennessCentralityInput")
	if code != 0 || !strings.Contains(out, "num_nodes") {
		t.Errorf("grpcurl describe BetweennessCentralityInput: exit %d\n%s", code, out)
	}

	out, code = runTool(t, grpcurl, "-plaintext", "-d", cycle4Request, s.grpc, "gokernels.v1.KernelService/Execute")
	if code != 0 {
		t.Fatalf("grpcurl Execute: exit %d\n%s", code, out)
	}
	checkSixths(t, out)

	// Errors come back as gRPC codes: grpcurl prints the code and exits non-zero.
	out, code = runTool(t, grpcurl, "-plaintext", "-d", `{"kernel_id":"graph/nope","input":{}}`, s.grpc, "gokernels.v1.KernelService/Execute")
	if code == 0 || !strings.Contains(out, "NotFound") {
		t.Errorf("grpcurl Execute unknown kernel: exit %d\n%s", code, out)
	}
}

// TestGrpcurlTypedGraphRPCs: the grpcurl line — the typed input in
// protojson, edges as [[0, 1], [1, 2]] — parses on every GraphService RPC
// whose input has edges (grpcurl reads the nested arrays into the
// google.protobuf.ListValue items), answers degree centrality exactly, and a
// bad edge comes back as InvalidArgument naming it.
func TestGrpcurlTypedGraphRPCs(t *testing.T) {
	s := startServer(t)
	const body = `{"num_nodes":3,"edges":[[0,1],[1,2]]}`
	out, code := runTool(t, grpcurl, "-plaintext", "-d", body, s.grpc, "gokernels.kernels.graph.v1.GraphService/DegreeCentrality")
	var got struct{ Scores []float64 }
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || !slices.Equal(got.Scores, []float64{0.5, 1, 0.5}) {
		t.Fatalf("grpcurl DegreeCentrality %s: exit %d\n%s\nwant scores [0.5 1 0.5] (nx.degree_centrality of the path 0-1-2)", body, code, out)
	}
	svc := graphv1.File_gokernels_kernels_graph_v1_service_proto.Services().ByName("GraphService")
	methods := svc.Methods()
	ran := 0
	for i := range methods.Len() {
		m := methods.Get(i)
		if m.Input().Fields().ByName("edges") == nil {
			continue // graph/value-similarity: distributions, no graph
		}
		ran++
		full := string(svc.FullName()) + "/" + string(m.Name())
		out, code := runTool(t, grpcurl, "-plaintext", "-d", body, s.grpc, full)
		// Kernels with required parameters of their own (a source node,
		// features, communities) answer InvalidArgument about those: the
		// edges were read.
		if code != 0 && (!strings.Contains(out, "InvalidArgument") || strings.Contains(out, "edges")) {
			t.Errorf("grpcurl %s %s: exit %d\n%s", full, body, code, out)
		}
	}
	if ran < 25 {
		t.Errorf("ran %d graph RPCs, want every one with edges", ran)
	}
	for bad, field := range map[string]string{
		`{"num_nodes":3,"edges":[[0,1],[1,"2"]]}`:         "edges[1][1]",
		`{"num_nodes":3,"edges":[[0,1,2]]}`:               "edges[0]",
		`{"num_nodes":3,"edges":[[0,1e308]]}`:             "edges[0][1]",
		`{"num_nodes":3,"edges":[[0,1]],"pairs":[[0,3]]}`: "pairs[0]",
	} {
		rpc := "DegreeCentrality"
		if strings.Contains(bad, "pairs") {
			rpc = "JaccardSimilarity"
		}
		out, code := runTool(t, grpcurl, "-plaintext", "-d", bad, s.grpc, "gokernels.kernels.graph.v1.GraphService/"+rpc)
		if code == 0 || !strings.Contains(out, "InvalidArgument") || !strings.Contains(out, `"field": "`+field+`"`) {
			t.Errorf("grpcurl %s %s: exit %d, want InvalidArgument on %s\n%s", rpc, bad, code, field, out)
		}
	}
}

func TestGrpcHealthProbe(t *testing.T) {
	s := startServer(t)
	for _, args := range [][]string{
		{"-addr", s.grpc},
		{"-addr", s.grpc, "-service", "gokernels.v1.KernelService"},
		{"-addr", s.http}, // the REST port serves gRPC too
	} {
		out, code := runTool(t, healthProbe, args...)
		if code != 0 || !strings.Contains(out, "SERVING") {
			t.Errorf("grpc-health-probe %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	// An unknown service is an RPC failure (exit 3), not a healthy answer.
	if out, code := runTool(t, healthProbe, "-addr", s.grpc, "-service", "gokernels.v1.Nope"); code != 3 {
		t.Errorf("grpc-health-probe unknown service: exit %d, want 3\n%s", code, out)
	}
}

// --- README Quick start -----------------------------------------------------

type codeBlock struct {
	lang, text string
}

// quickStartBlocks returns the fenced code blocks of README.md's
// "## Quick start" section, in order.
func quickStartBlocks(t *testing.T) []codeBlock {
	t.Helper()
	return sectionBlocks(t, "Quick start")
}

// sectionBlocks returns the fenced code blocks of README.md's "## <title>"
// section, in order.
func sectionBlocks(t *testing.T, title string) []codeBlock {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []codeBlock
	in, inBlock := false, false
	var cur codeBlock
	var body strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if !inBlock && strings.HasPrefix(line, "## ") {
			if in {
				break
			}
			in = strings.TrimSpace(strings.TrimPrefix(line, "## ")) == title
			continue
		}
		if !in {
			continue
		}
		if strings.HasPrefix(line, "```") {
			if inBlock {
				cur.text = body.String()
				blocks = append(blocks, cur)
				body.Reset()
			} else {
				cur = codeBlock{lang: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
			}
			inBlock = !inBlock
			continue
		}
		if inBlock {
			body.WriteString(line + "\n")
		}
	}
	if len(blocks) == 0 {
		t.Fatalf(`README.md has no code blocks under "## %s"`, title)
	}
	return blocks
}

// shellWords splits a shell script into commands and their words: quotes,
// backslash escapes and line continuations as sh does, comments dropped.
// Pipes, redirections, substitutions and command lists are refused: the
// Quick start commands are meant to be pasted one by one.
func shellWords(script string) ([][]string, error) {
	var cmds [][]string
	var words []string
	var w strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, w.String())
			w.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	rs := []rune(script)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case c == '\\' && i+1 < len(rs) && rs[i+1] == '\n':
			i++ // line continuation
		case c == '\\' && i+1 < len(rs):
			i++
			w.WriteRune(rs[i])
			inWord = true
		case c == '\n':
			endCmd()
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			for i+1 < len(rs) && rs[i+1] != '\n' {
				i++
			}
		case c == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated single quote")
			}
			w.WriteString(string(rs[i+1 : j]))
			inWord = true
			i = j
		case c == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				switch {
				case rs[j] == '\\' && j+1 < len(rs) && strings.ContainsRune("\"\\$`", rs[j+1]):
					j++
					w.WriteRune(rs[j])
				case rs[j] == '\\' && j+1 < len(rs) && rs[j+1] == '\n':
					j++
				case rs[j] == '$' || rs[j] == '`':
					return nil, fmt.Errorf("substitution in double quotes is not supported")
				default:
					w.WriteRune(rs[j])
				}
			}
			if j == len(rs) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			inWord = true
			i = j
		case strings.ContainsRune("|&;<>()$`*", c):
			return nil, fmt.Errorf("unsupported shell syntax %q", c)
		default:
			w.WriteRune(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, nil
}

// substitute points the README's default addresses at the test server.
func substitute(s *server, word string) string {
	return strings.NewReplacer(
		"localhost:8080", s.http, "127.0.0.1:8080", s.http,
		"localhost:50051", s.grpc, "127.0.0.1:50051", s.grpc,
	).Replace(word)
}

// runCurl runs a README curl command, with the real curl when it is
// installed and otherwise with net/http (saying so); it returns the HTTP
// status and the body.
func runCurl(t *testing.T, args []string) (int, string) {
	t.Helper()
	if path, err := exec.LookPath("curl"); err == nil {
		f := filepath.Join(t.TempDir(), "body")
		full := append([]string{"-sS", "-o", f, "-w", "%{http_code}"}, args...)
		out, code := runTool(t, path, full...)
		if code != 0 {
			t.Fatalf("curl %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		var status int
		if _, err := fmt.Sscanf(strings.TrimSpace(out), "%d", &status); err != nil {
			t.Fatalf("curl %s: no status in %q", strings.Join(args, " "), out)
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return status, string(body)
	}
	t.Logf("curl is not installed: running %q through net/http", strings.Join(args, " "))
	method, url, data := "", "", ""
	hasData := false
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 >= len(args) {
				t.Fatalf("curl %s: %s needs a value", strings.Join(args, " "), a)
			}
			i++
			return args[i]
		}
		switch {
		case a == "-X" || a == "--request":
			method = next()
		case a == "-H" || a == "--header":
			k, v, _ := strings.Cut(next(), ":")
			header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		case a == "-d" || a == "--data" || a == "--data-raw" || a == "--data-binary":
			data, hasData = next(), true
		case a == "-s" || a == "-S" || a == "-sS" || a == "--silent" || a == "--show-error":
		case strings.HasPrefix(a, "-"):
			t.Fatalf("curl %s: option %s is not emulated; install curl", strings.Join(args, " "), a)
		default:
			url = a
		}
	}
	if method == "" {
		method = "GET"
		if hasData {
			method = "POST"
		}
	}
	if hasData && header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req, err := http.NewRequest(method, url, strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("curl %s: %v", strings.Join(args, " "), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestReadmeQuickStart runs every curl and grpcurl command in the README's
// Quick start against a real server (ports substituted) and checks each
// documented answer (a json block after a command) against the real one.
func TestReadmeQuickStart(t *testing.T) {
	s := startServer(t)
	var curls, grpcurls int
	var last string // output of the last command run
	var lastCmd []string
	for _, b := range quickStartBlocks(t) {
		if b.lang == "json" {
			if last == "" {
				t.Fatalf("README Quick start: a json block follows no command:\n%s", b.text)
			}
			checkDocumentedAnswer(t, lastCmd, b.text, last)
			continue
		}
		if b.lang != "sh" && b.lang != "bash" && b.lang != "shell" {
			t.Logf("README Quick start: %q block not run", b.lang)
			continue
		}
		cmds, err := shellWords(b.text)
		if err != nil {
			t.Fatalf("README Quick start block %q: %v", b.text, err)
		}
		for _, words := range cmds {
			args := make([]string, len(words)-1)
			for i, w := range words[1:] {
				args[i] = substitute(s, w)
			}
			switch words[0] {
			case "curl":
				curls++
				status, body := runCurl(t, args)
				if status < 200 || status > 299 {
					t.Errorf("README: %s: HTTP %d\n%s", strings.Join(words, " "), status, body)
				}
				if strings.Contains(strings.Join(args, " "), "/metrics") {
					if !strings.Contains(body, "# TYPE ") {
						t.Errorf("README: %s: not Prometheus text:\n%.300s", strings.Join(words, " "), body)
					}
				} else if !json.Valid([]byte(body)) {
					t.Errorf("README: %s: not JSON:\n%.300s", strings.Join(words, " "), body)
				}
				last, lastCmd = body, words
			case "grpcurl":
				grpcurls++
				out, code := runTool(t, grpcurl, args...)
				if code != 0 {
					t.Errorf("README: %s: exit %d\n%s", strings.Join(words, " "), code, out)
				}
				if slices.Contains(args, "list") && !strings.Contains(out, "gokernels.v1.KernelService") {
					t.Errorf("README: %s: no KernelService in\n%s", strings.Join(words, " "), out)
				}
				if strings.Contains(args[len(args)-1], "/") && !json.Valid([]byte(out)) {
					t.Errorf("README: %s: not JSON:\n%s", strings.Join(words, " "), out)
				}
				last, lastCmd = out, words
			default:
				t.Logf("README Quick start: not run here: %s", strings.Join(words, " "))
			}
		}
	}
	// A README rewrite that this parser no longer understands must not pass
	// by running nothing.
	if curls < 2 || grpcurls < 2 {
		t.Errorf("README Quick start: ran %d curl and %d grpcurl commands; expected the documented examples", curls, grpcurls)
	}
	t.Logf("ran %d curl and %d grpcurl commands from README.md", curls, grpcurls)
}

// checkDocumentedAnswer compares a documented JSON answer with the real one:
// the same kernel_id and output (request id and timings vary).
func checkDocumentedAnswer(t *testing.T, cmd []string, doc, got string) {
	t.Helper()
	var d, g map[string]any
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("README: documented answer is not JSON: %v\n%s", err, doc)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("README: %s: answer is not JSON: %v\n%s", strings.Join(cmd, " "), err, got)
	}
	_, hasID := d["kernel_id"]
	_, hasOutput := d["output"]
	if !hasID && !hasOutput {
		// A typed route's answer is the kernel's output itself.
		if !reflect.DeepEqual(d, g) {
			t.Errorf("README: %s: documented %v, real %v", strings.Join(cmd, " "), d, g)
		}
		return
	}
	for _, k := range []string{"kernel_id", "output"} {
		if _, ok := d[k]; !ok {
			continue
		}
		if !reflect.DeepEqual(d[k], g[k]) {
			t.Errorf("README: %s: documented %s %v, real %v", strings.Join(cmd, " "), k, d[k], g[k])
		}
	}
	if md, ok := d["metadata"].(map[string]any); ok {
		gm, _ := g["metadata"].(map[string]any)
		if gm == nil || md["backend"] != gm["backend"] {
			t.Errorf("README: %s: documented metadata %v, real %v", strings.Join(cmd, " "), md, gm)
		}
	}
}

func TestShellWords(t *testing.T) {
	cmds, err := shellWords("curl -X POST http://x/e -H \"A: b\" \\\n  -d '{\"a\": [1]}'  # note\n\n" +
		"grpcurl -plaintext -d '{}' \\\n  h:1 s/M\ncurl http://x/k?domain=graph   # list\n")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"curl", "-X", "POST", "http://x/e", "-H", "A: b", "-d", `{"a": [1]}`},
		{"grpcurl", "-plaintext", "-d", "{}", "h:1", "s/M"},
		{"curl", "http://x/k?domain=graph"},
	}
	if !reflect.DeepEqual(cmds, want) {
		t.Fatalf("got %q\nwant %q", cmds, want)
	}
	for _, bad := range []string{"curl x | jq", "a && b", "echo $(x)", "curl 'x"} {
		if _, err := shellWords(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// --- OpenAPI ----------------------------------------------------------------

type swaggerSpec struct {
	Swagger string                                `json:"swagger"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
	Defs    map[string]struct {
		Example json.RawMessage `json:"example"`
	} `json:"definitions"`
}

type swaggerOp struct {
	Summary     string   `json:"summary"`
	OperationID string   `json:"operationId"`
	Produces    []string `json:"produces"`
	Parameters  []struct {
		Name   string `json:"name"`
		In     string `json:"in"`
		Schema struct {
			Ref string `json:"$ref"`
		} `json:"schema"`
	} `json:"parameters"`
	Responses map[string]struct {
		Examples map[string]json.RawMessage `json:"examples"`
	} `json:"responses"`
}

func loadSpec(t *testing.T) swaggerSpec {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "openapi", "gokernels.swagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec swaggerSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Swagger != "2.0" {
		t.Fatalf("swagger %q, want 2.0", spec.Swagger)
	}
	return spec
}

// typedKernelRoute reports whether an OpenAPI operation is a typed kernel
// route (POST /kernels/graph/pagerank:execute) and returns its kernel id.
func typedKernelRoute(method, path string) (string, bool) {
	if method != "post" || !strings.HasPrefix(path, "/kernels/") || !strings.HasSuffix(path, ":execute") {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(path, "/kernels/"), ":execute"), true
}

// listKernelIDs pages through GET /kernels.
func listKernelIDs(t *testing.T, base string) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		resp, err := http.Get(base + "/kernels?page_size=500&page_token=" + token)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Kernels []struct {
				ID string `json:"id"`
			} `json:"kernels"`
			NextPageToken string `json:"next_page_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Kernels {
			ids = append(ids, k.ID)
		}
		if token = page.NextPageToken; token == "" {
			return ids
		}
	}
}

// readmeRoutes are the "| GET | `/path` |" rows of README.md's API table.
func readmeRoutes(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?m)^\\| (GET|POST|PUT|PATCH|DELETE) \\| `([^`]+)` \\|")
	var routes []string
	for _, m := range re.FindAllStringSubmatch(string(raw), -1) {
		routes = append(routes, m[1]+" "+m[2])
	}
	sort.Strings(routes)
	return routes
}

// TestOpenAPIMatchesServer: the spec lists every REST route of the README's
// API table, each with a summary; every operation answers on a real server;
// the /execute request example runs and gives the documented response.
func TestOpenAPIMatchesServer(t *testing.T) {
	spec := loadSpec(t)
	// The typed kernel routes, POST /kernels/graph/pagerank:execute, are one
	// row of the README's table, POST /kernels/{kernel_id}:execute; the
	// spec must hold one for every kernel the server lists (checked below).
	var specRoutes []string
	typedRoutes := map[string]bool{} // kernel id → in the spec
	for path, ops := range spec.Paths {
		for method := range ops {
			if id, ok := typedKernelRoute(method, path); ok {
				typedRoutes[id] = true
				continue
			}
			specRoutes = append(specRoutes, strings.ToUpper(method)+" "+path)
		}
	}
	if len(typedRoutes) > 0 {
		specRoutes = append(specRoutes, "POST /kernels/{kernel_id}:execute")
	}
	sort.Strings(specRoutes)
	want := readmeRoutes(t)
	if len(want) < 8 {
		t.Fatalf("README API table: found only %v", want)
	}
	if !reflect.DeepEqual(specRoutes, want) {
		t.Errorf("OpenAPI routes %v\nREADME API table %v", specRoutes, want)
	}

	s := startServer(t)
	base := "http://" + s.http
	served := listKernelIDs(t, base)
	for _, id := range served {
		if !typedRoutes[id] {
			t.Errorf("the spec has no typed route POST /kernels/%s:execute", id)
		}
		delete(typedRoutes, id)
	}
	for id := range typedRoutes {
		t.Errorf("the spec has a typed route for %s, which the server does not list", id)
	}
	// Each typed route runs the first passing case of its kernel's fixture.
	fixtureInput := map[string]json.RawMessage{}
	files, err := fixture.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		for _, c := range f.Cases {
			if _, ok := fixtureInput[f.KernelID]; !ok && c.ErrorField == "" && !c.Slow {
				fixtureInput[f.KernelID] = c.Input
			}
		}
	}
	// Ring routes act on the ring that POST /rings creates from its example,
	// so operations run in a ring's lifecycle order (create first, restore
	// after snapshot, delete last); the rest keep the spec's order.
	type specOp struct{ method, path string }
	var order []specOp
	for path, ops := range spec.Paths {
		for method := range ops {
			order = append(order, specOp{method, path})
		}
	}
	rank := func(o specOp) int {
		for i, suffix := range []string{"/rings", "}", "}:send", "}:watch", "}:snapshot", "}:restore", "}:pause", "}:resume"} {
			if strings.HasSuffix(o.path, suffix) && (strings.HasPrefix(o.path, "/{name}") || o.path == "/rings") && o.method != "delete" {
				if o.path == "/rings" && o.method == "get" {
					return 1
				}
				return i
			}
		}
		if o.method == "delete" {
			return 100
		}
		return -1
	}
	sort.SliceStable(order, func(i, j int) bool {
		if ri, rj := rank(order[i]), rank(order[j]); ri != rj {
			return ri < rj
		}
		return order[i].path+order[i].method < order[j].path+order[j].method
	})
	var ringName string
	var snapshot json.RawMessage
	for _, o := range order {
		method, path, rawOp := o.method, o.path, spec.Paths[o.path][o.method]
		{
			var op swaggerOp
			if err := json.Unmarshal(rawOp, &op); err != nil {
				t.Fatal(err)
			}
			name := strings.ToUpper(method) + " " + path
			if op.Summary == "" {
				t.Errorf("%s: no summary", name)
			}
			url := base + strings.ReplaceAll(path, "{kernel_id}", "graph/pagerank")
			if strings.Contains(path, "{name}") {
				if ringName == "" {
					t.Errorf("%s: no ring was created by POST /rings", name)
					continue
				}
				url = base + strings.ReplaceAll(path, "{name}", ringName)
				if strings.HasSuffix(path, ":watch") {
					url += "?after_seq=0" // replay the retained events first
				}
			}
			var body io.Reader
			var example json.RawMessage
			id, typed := typedKernelRoute(method, path)
			if typed {
				in, ok := fixtureInput[id]
				if !ok {
					t.Errorf("%s: kernel %s has no fixture case to run", name, id)
					continue
				}
				body = bytes.NewReader(in)
			}
			for _, p := range op.Parameters {
				if typed {
					break
				}
				if p.In == "body" {
					def := strings.TrimPrefix(p.Schema.Ref, "#/definitions/")
					example = spec.Defs[def].Example
					if len(example) == 0 {
						t.Errorf("%s: definition %s has no example", name, def)
						continue
					}
					body = bytes.NewReader(example)
					if strings.HasSuffix(path, ":restore") {
						// The example names the field; the value comes from the snapshot.
						body = bytes.NewReader(snapshot)
					}
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), url, body)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				cancel()
				t.Fatalf("%s: %v", name, err)
			}
			var got []byte
			if strings.HasSuffix(path, ":watch") {
				// A stream: its first line is the first event (the message sent above).
				line, _ := bufio.NewReader(resp.Body).ReadBytes('\n')
				got = line
				if resp.StatusCode == 200 && !bytes.Contains(line, []byte(`"seq"`)) {
					t.Errorf("%s: first NDJSON line %q carries no event", name, line)
				}
			} else {
				got, _ = io.ReadAll(resp.Body)
			}
			resp.Body.Close()
			cancel()
			if resp.StatusCode != 200 {
				t.Errorf("%s: HTTP %d\n%s", name, resp.StatusCode, got)
				continue
			}
			switch {
			case method == "post" && path == "/rings":
				var r struct{ Name string }
				if err := json.Unmarshal(got, &r); err != nil || !strings.HasPrefix(r.Name, "tenants/") {
					t.Fatalf("%s: answer %s names no ring", name, got)
				}
				ringName = r.Name
			case strings.HasSuffix(path, ":snapshot"):
				var sr struct{ Data string }
				if err := json.Unmarshal(got, &sr); err != nil || sr.Data == "" {
					t.Fatalf("%s: answer %s carries no snapshot", name, got)
				}
				snapshot, _ = json.Marshal(map[string]string{"data": sr.Data})
			}
			ct := resp.Header.Get("Content-Type")
			if len(op.Produces) > 0 && !strings.HasPrefix(ct, op.Produces[0]) {
				t.Errorf("%s: Content-Type %q, spec produces %v", name, ct, op.Produces)
			}
			if doc, ok := op.Responses["200"].Examples["application/json"]; ok {
				checkDocumentedAnswer(t, []string{name, "(spec example)"}, string(doc), string(got))
			}
			if path == "/execute" {
				if len(example) == 0 || len(op.Responses["200"].Examples["application/json"]) == 0 {
					t.Errorf("%s: the spec must carry a request and a response example", name)
				}
				checkSixths(t, string(got))
			}
		}
	}
}

// TestReadmeRingSession runs the README's grpcurl Session example as the
// shell script it is (grpcurl on PATH, addresses pointed at a test server)
// and checks the replay law end to end: the session's snapshot equals the
// Batch output of Execute over the same edges.
func TestReadmeRingSession(t *testing.T) {
	var script string
	for _, b := range sectionBlocks(t, "Rings: stateful, streaming kernels") {
		if strings.Contains(b.text, "RingService/Session") {
			script = b.text
		}
	}
	if script == "" {
		t.Fatal("README's Rings section has no grpcurl RingService/Session example")
	}
	s := startServer(t)
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", substitute(s, script))
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(grpcurl)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README Session example: %v\n%s\nserver log:\n%s", err, out, s.logs.String())
	}

	// grpcurl prints one JSON object per response.
	type reply struct {
		Seq       string          `json:"seq"`
		ClientID  string          `json:"clientId"`
		ClientSeq string          `json:"clientSeq"`
		Status    json.RawMessage `json:"status"`
		Output    json.RawMessage `json:"output"`
	}
	var replies []reply
	var opened, ended bool
	var edges [][]int
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var msg struct {
			Opened json.RawMessage `json:"opened"`
			Reply  *reply          `json:"reply"`
			End    json.RawMessage `json:"end"`
			Name   string          `json:"name"` // CreateRing's answer
		}
		if err := dec.Decode(&msg); err != nil {
			t.Fatalf("grpcurl output is not a JSON stream: %v\n%s", err, out)
		}
		opened = opened || msg.Opened != nil
		ended = ended || msg.End != nil
		if msg.Reply != nil {
			replies = append(replies, *msg.Reply)
		}
	}
	if !opened || !ended || len(replies) < 2 {
		t.Fatalf("want opened, replies and end; got opened=%v end=%v %d replies\n%s", opened, ended, len(replies), out)
	}
	for i, r := range replies {
		if r.ClientID == "" || r.ClientSeq != fmt.Sprint(i+1) {
			t.Errorf("reply %d: correlation %q/%s, want client_seq %d", i, r.ClientID, r.ClientSeq, i+1)
		}
	}
	last := replies[len(replies)-1]
	if last.Output == nil {
		t.Fatalf("the last reply carries no snapshot output\n%s", out)
	}

	// The same edges as one Batch request over Execute.
	for _, line := range strings.Split(script, "\n") {
		var req struct {
			Request struct {
				Data struct {
					Edges [][]int `json:"edges"`
				} `json:"data"`
			} `json:"request"`
		}
		if json.Unmarshal([]byte(line), &req) == nil {
			edges = append(edges, req.Request.Data.Edges...)
		}
	}
	in, _ := json.Marshal(map[string]any{"kernel_id": "graph/degree-centrality", "input": map[string]any{"num_nodes": 4, "edges": edges}})
	batch, code := runTool(t, grpcurl, "-plaintext", "-d", string(in), s.grpc, "gokernels.v1.KernelService/Execute")
	if code != 0 {
		t.Fatalf("Execute: exit %d\n%s", code, batch)
	}
	var exec struct {
		Output json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal([]byte(batch), &exec); err != nil {
		t.Fatal(err)
	}
	var ringOut, batchOut any
	_ = json.Unmarshal(last.Output, &ringOut)
	_ = json.Unmarshal(exec.Output, &batchOut)
	if !reflect.DeepEqual(ringOut, batchOut) || ringOut == nil {
		t.Errorf("replay law: ring snapshot %s, Batch %s", last.Output, exec.Output)
	}
}
