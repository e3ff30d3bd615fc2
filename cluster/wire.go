package cluster

import (
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gokernels/gokernels/ring"
)

// Log entry headers. The body is the kernel input message (proto binary).
const (
	hKind      = "Gk-Kind"
	hClient    = "Gk-Client"
	hClientSeq = "Gk-Client-Seq"
	hTS        = "Gk-Ts"
	hReply     = "Gk-Reply"

	kindData      = "data"
	kindConfigure = "configure"
	kindReset     = "reset"
	kindSnapshot  = "snapshot"
	kindDelete    = "delete"
)

func kindName(k ring.Kind) string {
	switch k {
	case ring.KindData:
		return kindData
	case ring.KindConfigure:
		return kindConfigure
	case ring.KindReset:
		return kindReset
	case ring.KindSnapshot:
		return kindSnapshot
	}
	return ""
}

// wireReply is a ring.Reply on the reply subject.
type wireReply struct {
	Seq       uint64      `json:"seq,omitempty"`
	ClientID  string      `json:"client_id,omitempty"`
	ClientSeq uint64      `json:"client_seq,omitempty"`
	Duplicate bool        `json:"dup,omitempty"`
	Code      uint32      `json:"code,omitempty"`
	Reason    string      `json:"reason,omitempty"`
	Msg       string      `json:"msg,omitempty"`
	Output    []byte      `json:"output,omitempty"` // anypb.Any, proto binary
	Events    []wireEvent `json:"events,omitempty"`
}

// wireEvent is a ring.Event on the event subject or inside a reply.
type wireEvent struct {
	Seq       uint64 `json:"seq"`
	TS        int64  `json:"ts,omitempty"`
	Kind      string `json:"kind"`
	ClientID  string `json:"client_id,omitempty"`
	ClientSeq uint64 `json:"client_seq,omitempty"`
	Code      uint32 `json:"code,omitempty"`
	Payload   []byte `json:"payload,omitempty"` // anypb.Any, proto binary
}

func marshalAny(m proto.Message) []byte {
	if m == nil {
		return nil
	}
	a, err := anypb.New(m)
	if err != nil {
		return nil
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(a)
	if err != nil {
		return nil
	}
	return b
}

func unmarshalAny(b []byte) (proto.Message, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var a anypb.Any
	if err := proto.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	return a.UnmarshalNew()
}

func encodeEvent(e ring.Event) wireEvent {
	return wireEvent{Seq: e.Seq, TS: e.TS, Kind: e.Kind, ClientID: e.ClientID, ClientSeq: e.ClientSeq, Code: e.Code,
		Payload: marshalAny(e.Payload)}
}

func (w wireEvent) decode() ring.Event {
	e := ring.Event{Seq: w.Seq, TS: w.TS, Kind: w.Kind, ClientID: w.ClientID, ClientSeq: w.ClientSeq, Code: w.Code}
	e.Payload, _ = unmarshalAny(w.Payload)
	return e
}

// encodeEvents lists what watchers see for a reply: the handler's events,
// then "applied" (as the single-node runtime publishes them).
func encodeEvents(rep ring.Reply, ts int64) []wireEvent {
	if rep.Duplicate || rep.Seq == 0 {
		return nil
	}
	out := make([]wireEvent, 0, len(rep.Events)+1)
	for _, e := range rep.Events {
		out = append(out, encodeEvent(e))
	}
	code := uint32(codes.OK)
	if rep.Err != nil {
		code = uint32(rep.Err.Code)
	}
	if rep.Output == nil { // Snapshot reads publish nothing
		out = append(out, wireEvent{Seq: rep.Seq, TS: ts, Kind: "applied", ClientID: rep.ClientID, ClientSeq: rep.ClientSeq, Code: code})
	}
	return out
}

func encodeReply(rep ring.Reply) *wireReply {
	w := &wireReply{Seq: rep.Seq, ClientID: rep.ClientID, ClientSeq: rep.ClientSeq, Duplicate: rep.Duplicate,
		Output: marshalAny(rep.Output)}
	if rep.Err != nil {
		w.Code, w.Reason, w.Msg = uint32(rep.Err.Code), rep.Err.Reason, rep.Err.Msg
	}
	for _, e := range rep.Events {
		w.Events = append(w.Events, encodeEvent(e))
	}
	return w
}

func errReply(err error) *wireReply {
	var re *ring.Error
	if errors.As(err, &re) {
		return &wireReply{Code: uint32(re.Code), Reason: re.Reason, Msg: re.Msg}
	}
	st := status.Convert(err)
	return &wireReply{Code: uint32(st.Code()), Msg: st.Message()}
}

func (w *wireReply) decode() (ring.Reply, error) {
	rep := ring.Reply{Seq: w.Seq, ClientID: w.ClientID, ClientSeq: w.ClientSeq, Duplicate: w.Duplicate}
	if w.Code != 0 {
		rep.Err = &ring.Error{Code: codes.Code(w.Code), Reason: w.Reason, Msg: w.Msg}
	}
	var err error
	if rep.Output, err = unmarshalAny(w.Output); err != nil {
		return rep, err
	}
	for _, e := range w.Events {
		rep.Events = append(rep.Events, e.decode())
	}
	return rep, nil
}
