package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a server subprocess: gokernels or the baseline.
type proc struct {
	name       string
	bin        string
	cmd        *exec.Cmd
	grpcAddr   string
	httpAddr   string
	apiKey     string
	exited     chan error
	mu         sync.Mutex
	capture    map[string]int64 // request_id -> logged duration (ns), while capturing
	tail       []string         // last log lines, for errors
	scrapeHTTP *http.Client
}

// startGokernels runs `gokernels serve` with the production preset on
// 127.0.0.1 random ports and waits for its "gokernels serving" log line.
func startGokernels(bin, keysFile, apiKey string, extraEnv ...string) (*proc, error) {
	cmd := exec.Command(bin, "serve", "--http-addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0")
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOKERNELS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"GOKERNELS_ENV=production",
		"GOKERNELS_API_KEYS_FILE="+keysFile,
		// Rate limits on (the stage is in the chain) but far above any rate here.
		"GOKERNELS_RATE_LIMIT_RPS=10000000", "GOKERNELS_RATE_LIMIT_BURST=10000000",
		"GOKERNELS_CLIENT_RATE_LIMIT_RPS=10000000", "GOKERNELS_CLIENT_RATE_LIMIT_BURST=10000000",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	p := &proc{name: gk, cmd: cmd, apiKey: apiKey, exited: make(chan error, 1),
		scrapeHTTP: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addrs := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<16), 1<<22)
		serving := []byte(`"msg":"gokernels serving"`)
		request := []byte(`"msg":"request"`)
		for sc.Scan() {
			line := sc.Bytes()
			p.mu.Lock()
			capturing := p.capture != nil
			if len(p.tail) >= 20 {
				p.tail = p.tail[1:]
			}
			p.tail = append(p.tail, string(line))
			p.mu.Unlock()
			switch {
			case capturing && bytes.Contains(line, request):
				var rec struct {
					RequestID string `json:"request_id"`
					Duration  int64  `json:"duration"`
				}
				if json.Unmarshal(line, &rec) == nil && rec.RequestID != "" {
					p.mu.Lock()
					if p.capture != nil {
						p.capture[rec.RequestID] = rec.Duration
					}
					p.mu.Unlock()
				}
			case addrs != nil && bytes.Contains(line, serving):
				var rec map[string]any
				if json.Unmarshal(line, &rec) == nil {
					h, _ := rec["http"].(string)
					g, _ := rec["grpc"].(string)
					addrs <- [2]string{h, g}
					addrs = nil
				}
			}
		}
		p.exited <- cmd.Wait()
	}()
	select {
	case a := <-addrs:
		p.httpAddr, p.grpcAddr = a[0], a[1]
		return p, nil
	case err := <-p.exited:
		return nil, fmt.Errorf("gokernels exited at start: %v\n%s", err, p.lastLogs())
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, fmt.Errorf("gokernels did not start in 60s\n%s", p.lastLogs())
	}
}

// startBaseline re-runs this binary as `baseline`.
func startBaseline() (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "baseline")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{name: bare, cmd: cmd, exited: make(chan error, 1)}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		io.Copy(io.Discard, out)
		p.exited <- cmd.Wait()
	}()
	select {
	case l := <-line:
		var a map[string]string
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			p.stop()
			return nil, fmt.Errorf("baseline: %q: %v", l, err)
		}
		p.grpcAddr, p.httpAddr = a["grpc"], a["http"]
		return p, nil
	case err := <-p.exited:
		return nil, fmt.Errorf("baseline exited at start: %v", err)
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, fmt.Errorf("baseline did not start in 60s")
	}
}

func (p *proc) lastLogs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		_ = p.cmd.Process.Kill()
	}
}

// startCapture records the duration each "request" log line reports, by
// request id; stopCapture returns them.
func (p *proc) startCapture() {
	p.mu.Lock()
	p.capture = map[string]int64{}
	p.mu.Unlock()
}

func (p *proc) stopCapture() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.capture
	p.capture = nil
	return c
}

func (p *proc) captured(ids []string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if _, ok := p.capture[id]; !ok {
			return false
		}
	}
	return true
}

// metrics is a scrape of /metrics: "name{labels}" -> value.
type metrics map[string]float64

func (p *proc) scrape() (metrics, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.httpAddr+"/metrics", nil)
	req.Header.Set("X-API-Key", p.apiKey)
	resp, err := p.scrapeHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	m := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// sum adds the values of every series of family name whose labels contain
// all of the given `key="value"` pairs.
func (m metrics) sum(name string, labels ...string) float64 {
	total := 0.0
	for k, v := range m {
		series, rest, _ := strings.Cut(k, "{")
		if series != name {
			continue
		}
		ok := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				ok = false
				break
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// rssKB reads VmRSS of pid from /proc.
func rssKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				return strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// cpuTime is the CPU time (user + system, all threads) the process has used,
// from /proc/PID/stat (clock ticks of 10 ms).
func (p *proc) cpuTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// After the command: state is field 3 of stat(5); utime and stime are 14 and 15.
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

const clockTicks = 100 // USER_HZ on Linux
