package service

// The server's phase — starting, ready, draining, stopped — which readiness
// probes, the health services and the drain logic all read. It lives here,
// beside the health service that reports it (it was a package of its own,
// too small to be one).

import (
	"sync"
	"sync/atomic"
	"time"
)

// Phase of the server.
type Phase int32

const (
	Starting Phase = iota
	Ready
	Draining // readiness fails; requests still served until the grace ends
	Refusing // grace over: new requests are refused, in-flight ones finish
	Stopped
)

func (p Phase) String() string {
	return [...]string{"starting", "ready", "draining", "refusing", "stopped"}[p]
}

// State is the shared phase plus start time.
type State struct {
	phase   atomic.Int32
	Started time.Time
	mu      sync.Mutex
	watch   []func(Phase)
}

// New returns a State in the Starting phase.
func NewState() *State { return &State{Started: time.Now()} }

// Phase returns the current phase.
func (s *State) Phase() Phase { return Phase(s.phase.Load()) }

// Set moves to p and notifies watchers.
func (s *State) Set(p Phase) {
	s.phase.Store(int32(p))
	s.mu.Lock()
	w := append([]func(Phase){}, s.watch...)
	s.mu.Unlock()
	for _, f := range w {
		f(p)
	}
}

// OnChange registers f to be called on every phase change.
func (s *State) OnChange(f func(Phase)) {
	s.mu.Lock()
	s.watch = append(s.watch, f)
	s.mu.Unlock()
}

// IsReady reports whether readiness should succeed.
func (s *State) IsReady() bool { return s.Phase() == Ready }

// Accepting reports whether new requests are served.
func (s *State) Accepting() bool { p := s.Phase(); return p == Ready || p == Draining || p == Starting }

// Uptime since New.
func (s *State) Uptime() time.Duration { return time.Since(s.Started) }
