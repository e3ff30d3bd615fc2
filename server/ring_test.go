package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	gokernelsv1 "github.com/gokernels/gokernels/gen/gokernels/v1"
	"github.com/gokernels/gokernels/kernels/registry"
	"github.com/gokernels/gokernels/ring/ringtest"
	"github.com/gokernels/gokernels/server"
	"github.com/gokernels/gokernels/server/servertest"
)

func ringRegistry(t *testing.T) *registry.Registry {
	reg := registry.New()
	if err := ringtest.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

func ringClient(t *testing.T, addr string) gokernelsv1.RingServiceClient {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return gokernelsv1.NewRingServiceClient(conn)
}

func pairs(b ...float64) *structpb.Struct {
	var ps []any
	for _, v := range b {
		ps = append(ps, []any{1, v})
	}
	s, _ := structpb.NewStruct(map[string]any{"pairs": ps})
	return s
}

func dataReq(cid string, cs uint64, ts int64, b ...float64) *gokernelsv1.RingRequest {
	return &gokernelsv1.RingRequest{ClientId: cid, ClientSeq: cs, Ts: ts, Msg: &gokernelsv1.RingRequest_Data{Data: pairs(b...)}}
}

var snapshotReq = &gokernelsv1.RingRequest{Msg: &gokernelsv1.RingRequest_Snapshot{Snapshot: &gokernelsv1.SnapshotControl{}}}

func TestRingServiceGRPC(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, nil), ringRegistry(t), server.Options{})
	c := ringClient(t, srv.GRPCAddr())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, _ := structpb.NewStruct(map[string]any{"scale": 10})
	r, err := c.CreateRing(ctx, &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID, RingId: "sums",
		Durability: gokernelsv1.Durability_DURABILITY_JOURNAL, ConfigurePayload: &gokernelsv1.CreateRingRequest_Configure{Configure: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetName() != "tenants/default/rings/sums" || r.GetState() != gokernelsv1.RingState_RING_STATE_ACTIVE || r.GetSeq() != 1 {
		t.Fatalf("created %v", r)
	}
	w, err := c.Watch(ctx, &gokernelsv1.WatchRequest{Name: r.GetName(), AfterSeq: proto.Uint64(1)})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: dataReq("a", 1, 100, 1, 2)})
	if err != nil || rep.GetSeq() != 2 || rep.GetDuplicate() {
		t.Fatalf("send: %v %v", rep, err)
	}
	rep, err = c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: dataReq("a", 1, 100, 50)})
	if err != nil || !rep.GetDuplicate() || rep.GetSeq() != 2 {
		t.Fatalf("retry: %v %v", rep, err)
	}
	_, err = c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: dataReq("a", 2, 99, 1)})
	if status.Code(err) != codes.OutOfRange {
		t.Fatalf("decreasing ts: %v", err)
	}
	rep, err = c.Send(ctx, &gokernelsv1.SendRequest{Name: r.GetName(), Request: snapshotReq})
	if err != nil || rep.GetOutput().AsMap()["scale"] != 30.0 || rep.GetOutput().AsMap()["count"] != 1.0 {
		t.Fatalf("snapshot: %v %v", rep, err)
	}
	ev, err := w.Recv()
	if err != nil || ev.GetKind() != "applied" || ev.GetSeq() != 2 || ev.GetClientId() != "a" {
		t.Fatalf("watch: %v %v", ev, err)
	}

	// Session: replies in order, events before their reply.
	ss, err := c.Session(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: r.GetName(), ClientId: "s"}}})
	opened, err := ss.Recv()
	if err != nil || opened.GetOpened().GetCredits() == 0 {
		t.Fatalf("open: %v %v", opened, err)
	}
	flag, _ := structpb.NewStruct(map[string]any{"flag": true, "pairs": []any{[]any{1, 1}}})
	for i := uint64(1); i <= 20; i++ {
		rq := dataReq("", i, 200, 1)
		if i == 5 {
			rq.Msg = &gokernelsv1.RingRequest_Data{Data: flag}
		}
		if err := ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Request{Request: rq}}); err != nil {
			t.Fatal(err)
		}
	}
	ss.CloseSend()
	var got []string
	for {
		m, err := ss.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case m.GetReply() != nil:
			if m.GetReply().GetStatus().GetCode() != 0 || m.GetReply().GetClientId() != "s" {
				t.Fatalf("reply %v", m.GetReply())
			}
			got = append(got, "r"+itoa(m.GetReply().GetClientSeq()))
		case m.GetEvent() != nil:
			got = append(got, "e"+m.GetEvent().GetKind())
		case m.GetEnd() != nil:
			got = append(got, "end")
		}
	}
	if len(got) != 22 || got[4] != "eflag" || got[5] != "r5" || got[0] != "r1" || got[20] != "r20" || got[21] != "end" {
		t.Fatalf("session stream %v", got)
	}
	in, err := c.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: r.GetName()})
	if err != nil || in.GetSeq() != 23 {
		t.Fatalf("get: %v %v", in, err)
	}
	if _, err := c.DeleteRing(ctx, &gokernelsv1.DeleteRingRequest{Name: r.GetName()}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := w.Recv(); err != nil {
			if status.Code(err) != codes.NotFound {
				t.Fatalf("watch after delete: %v", err)
			}
			break
		}
	}
	if _, err := c.GetRing(ctx, &gokernelsv1.GetRingRequest{Name: r.GetName()}); status.Code(err) != codes.NotFound {
		t.Fatalf("get after delete: %v", err)
	}
}

func itoa(n uint64) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(n)) }

func jsonNum(n uint64) string { b, _ := json.Marshal(n); return string(b) }

func TestRingServiceREST(t *testing.T) {
	srv := servertest.Start(t, servertest.Config(t, nil), ringRegistry(t), server.Options{})
	base := "http://" + srv.HTTPAddr()
	call := func(method, path, body string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out, resp.Header
	}
	code, r, _ := call("POST", "/rings", `{"kernel_id": "test/sum", "ring_id": "rest", "durability": "DURABILITY_SNAPSHOT"}`)
	if code != 200 || r["name"] != "tenants/default/rings/rest" {
		t.Fatalf("create: %d %v", code, r)
	}
	code, rep, _ := call("POST", "/tenants/default/rings/rest:send", `{"client_id": "c", "client_seq": 1, "ts": 5, "data": {"pairs": [[1, 2.5]]}}`)
	if code != 200 || rep["seq"] != "1" || rep["duplicate"] != false {
		t.Fatalf("send: %d %v", code, rep)
	}
	// Watch as NDJSON, from the start of the retained events.
	wreq, _ := http.NewRequest("GET", base+"/tenants/default/rings/rest:watch?after_seq=0", nil)
	wresp, err := http.DefaultClient.Do(wreq)
	if err != nil {
		t.Fatal(err)
	}
	defer wresp.Body.Close()
	line, err := bufio.NewReader(wresp.Body).ReadBytes('\n')
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]map[string]any
	if err := json.Unmarshal(line, &ev); err != nil || ev["result"]["kind"] != "applied" || ev["result"]["seq"] != "1" {
		t.Fatalf("watch line %s: %v", line, err)
	}
	code, rep, _ = call("POST", "/tenants/default/rings/rest:send", `{"ts": 1, "data": {"pairs": [[1, 1]]}}`)
	if code != 400 || !strings.Contains(rep["message"].(string), "ts 1 is before") {
		t.Fatalf("out-of-order ts: %d %v", code, rep)
	}
	code, rep, _ = call("POST", "/tenants/default/rings/rest:send", `{"snapshot": {}}`)
	if code != 200 || rep["output"].(map[string]any)["scale"] != 2.5 {
		t.Fatalf("snapshot: %d %v", code, rep)
	}
	code, snap, _ := call("POST", "/tenants/default/rings/rest:snapshot", `{}`)
	if code != 200 || snap["seq"] != "2" || snap["data"] == "" {
		t.Fatalf("snapshot rpc: %d %v", code, snap)
	}
	code, rep, _ = call("POST", "/tenants/default/rings/rest:send", `{"data": {"count": 5000}}`)
	if code != 400 {
		t.Fatalf("invalid data: %d %v", code, rep)
	}
	code, list, _ := call("GET", "/rings", "")
	if code != 200 || len(list["rings"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, list)
	}
	if code, _, _ := call("DELETE", "/tenants/default/rings/rest", ""); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if code, _, _ := call("GET", "/tenants/default/rings/rest", ""); code != 404 {
		t.Fatalf("get after delete: %d", code)
	}
}

// TestRingTenants: a tenant sees only its rings; viewers may not use rings.
func TestRingTenants(t *testing.T) {
	sum := sha256.Sum256([]byte(authAdminKey))
	keys := filepath.Join(t.TempDir(), "api-keys")
	file := authViewerKey + " viewer\n" + authExecutorKey + " executor acme\nsha256:" + hex.EncodeToString(sum[:]) + " admin\n"
	if err := os.WriteFile(keys, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.Config(t, map[string]string{"GOKERNELS_AUTH": "true", "GOKERNELS_API_KEYS_FILE": keys}),
		ringRegistry(t), server.Options{})
	c := ringClient(t, srv.GRPCAddr())
	base, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	as := func(key string) context.Context { return metadata.AppendToOutgoingContext(base, "x-api-key", key) }
	r, err := c.CreateRing(as(authExecutorKey), &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID, RingId: "mine"})
	if err != nil || r.GetName() != "tenants/acme/rings/mine" {
		t.Fatalf("create as acme: %v %v", r, err)
	}
	if _, err := c.GetRing(as(authAdminKey), &gokernelsv1.GetRingRequest{Name: r.GetName()}); status.Code(err) != codes.NotFound {
		t.Fatalf("other tenant's ring: %v", err)
	}
	if l, err := c.ListRings(as(authAdminKey), &gokernelsv1.ListRingsRequest{}); err != nil || len(l.GetRings()) != 0 {
		t.Fatalf("other tenant lists %v %v", l, err)
	}
	if _, err := c.CreateRing(as(authViewerKey), &gokernelsv1.CreateRingRequest{KernelId: ringtest.ID}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("viewer create: %v", err)
	}
	ss, _ := c.Session(as(authAdminKey))
	ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: r.GetName()}}})
	if _, err := ss.Recv(); status.Code(err) != codes.NotFound {
		t.Fatalf("session on another tenant's ring: %v", err)
	}
	ss, _ = c.Session(as(authExecutorKey))
	ss.Send(&gokernelsv1.SessionRequest{Kind: &gokernelsv1.SessionRequest_Open{Open: &gokernelsv1.SessionOpen{Name: r.GetName()}}})
	if m, err := ss.Recv(); err != nil || m.GetOpened() == nil {
		t.Fatalf("own session: %v %v", m, err)
	}
	_ = bytes.MinRead
}
