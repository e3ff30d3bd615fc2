package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
)

const ringUsage = `ring commands (RingService over gRPC):
  gokernels ring create KERNEL_ID [--id RING_ID] [--durability none|snapshot|journal] [-f configure.json]
  gokernels ring send NAME [-f request.json | -f -]   (a RingRequest: {"client_id": "c", "client_seq": 1, "ts": 1, "data": {...}})
  gokernels ring watch NAME [--after-seq N]           (events as JSON lines until the ring ends)
  gokernels ring get NAME
  gokernels ring list
  gokernels ring delete NAME
NAME is tenants/{tenant}/rings/{ring_id}.
`

// cmdRing runs `gokernels ring ...`.
func cmdRing(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, ringUsage)
		return exitUsage
	}
	f := newClientFlags("ring " + args[0])
	f.fs.Usage = func() { fmt.Fprint(os.Stderr, ringUsage) }
	id := f.fs.String("id", "", "ring id (create)")
	durability := f.fs.String("durability", "", "none, snapshot or journal (create)")
	afterSeq := f.fs.Int64("after-seq", -1, "replay retained events after this seq (watch)")
	f.fs.StringVar(&f.file, "f", "", "JSON file; - for stdin")
	pos, err := f.parse(args[1:])
	if err != nil {
		return exitUsage
	}
	need := 1
	if args[0] == "list" {
		need = 0
	}
	if len(pos) != need {
		fmt.Fprint(os.Stderr, ringUsage)
		return exitUsage
	}
	c, err := f.dial()
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	ctx := context.Background()
	readJSON := func() ([]byte, error) {
		switch f.file {
		case "":
			return nil, nil
		case "-":
			return io.ReadAll(os.Stdin)
		}
		return os.ReadFile(f.file)
	}
	switch args[0] {
	case "create":
		req := &gokernelsv1.CreateRingRequest{KernelId: pos[0], RingId: *id}
		switch strings.ToLower(*durability) {
		case "":
		case "none":
			req.Durability = gokernelsv1.Durability_DURABILITY_NONE
		case "snapshot":
			req.Durability = gokernelsv1.Durability_DURABILITY_SNAPSHOT
		case "journal":
			req.Durability = gokernelsv1.Durability_DURABILITY_JOURNAL
		default:
			fmt.Fprintln(os.Stderr, "gokernels: --durability must be none, snapshot or journal")
			return exitUsage
		}
		b, err := readJSON()
		if err != nil {
			return fail(err)
		}
		if b != nil {
			st := &structpb.Struct{}
			if err := protojson.Unmarshal(b, st); err != nil {
				return fail(fmt.Errorf("configure: %w", err))
			}
			req.ConfigurePayload = &gokernelsv1.CreateRingRequest_Configure{Configure: st}
		}
		r, err := c.Rings.CreateRing(ctx, req)
		if err != nil {
			return fail(err)
		}
		return printJSON(r)
	case "send":
		if f.file == "" {
			f.file = "-"
		}
		b, err := readJSON()
		if err != nil {
			return fail(err)
		}
		rq := &gokernelsv1.RingRequest{}
		if err := protojson.Unmarshal(b, rq); err != nil {
			return fail(fmt.Errorf("request: %w", err))
		}
		rep, err := c.Rings.Send(ctx, &gokernelsv1.SendRequest{Name: pos[0], Request: rq})
		if err != nil {
			return fail(err)
		}
		return printJSON(rep)
	case "watch":
		req := &gokernelsv1.WatchRequest{Name: pos[0]}
		if *afterSeq >= 0 {
			n := uint64(*afterSeq)
			req.AfterSeq = &n
		}
		// A watch has no deadline: it ends with the ring or the server.
		w, err := c.Rings.Watch(context.Background(), req)
		if err != nil {
			return fail(err)
		}
		for {
			ev, err := w.Recv()
			if err == io.EOF {
				return exitOK
			}
			if err != nil {
				return fail(err)
			}
			b, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(ev)
			fmt.Println(string(b))
		}
	case "get":
		r, err := c.Rings.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: pos[0]})
		if err != nil {
			return fail(err)
		}
		return printJSON(r)
	case "list":
		l, err := c.Rings.ListRings(ctx, &gokernelsv1.ListRingsRequest{})
		if err != nil {
			return fail(err)
		}
		return printJSON(l)
	case "delete":
		if _, err := c.Rings.DeleteRing(ctx, &gokernelsv1.DeleteRingRequest{Name: pos[0]}); err != nil {
			return fail(err)
		}
		return exitOK
	}
	fmt.Fprint(os.Stderr, ringUsage)
	return exitUsage
}
