// npm test: builds (types from the OpenAPI spec), then runs against the
// server at GOKERNELS_URL (e.g. http://127.0.0.1:8080).
import assert from "node:assert/strict";
import test from "node:test";
import { GokernelsClient, GokernelsError } from "./client";
import { CYCLE4 } from "./main";

const url = process.env.GOKERNELS_URL;
if (!url) {
  console.error("set GOKERNELS_URL to the server's REST base URL (http://host:port)");
  process.exit(2);
}
const c = new GokernelsClient(url);

test("GET /kernels?domain=graph lists graph kernels", async () => {
  const res = await c.listKernels({ domain: "graph", page_size: 500 });
  const ids = (res.kernels ?? []).map((k) => k.id ?? "");
  assert.ok(ids.includes("graph/betweenness-centrality"), ids.join(" "));
  assert.ok(ids.every((id) => id.startsWith("graph/")));
});

test("GET /kernels/graph/betweenness-centrality", async () => {
  const k = await c.getKernel("graph/betweenness-centrality");
  assert.equal(k.id, "graph/betweenness-centrality");
  assert.equal(k.input_type, "gokernels.kernels.graph.v1.BetweennessCentralityInput");
});

test("POST /execute betweenness centrality of the 4-cycle: 1/6 each", async () => {
  const res = await c.execute({ kernel_id: "graph/betweenness-centrality", input: CYCLE4 });
  assert.equal(res.kernel_id, "graph/betweenness-centrality");
  const scores = res.output?.["scores"];
  assert.ok(Array.isArray(scores) && scores.length === 4, JSON.stringify(res));
  for (const s of scores) assert.ok(Math.abs(Number(s) - 1 / 6) < 1e-12, `score ${s}, want 1/6`);
});

test("unknown kernel: 404 with a google.rpc.Status body", async () => {
  await assert.rejects(c.execute({ kernel_id: "graph/nope", input: {} }), (err: unknown) => {
    assert.ok(err instanceof GokernelsError);
    assert.equal(err.httpStatus, 404);
    assert.equal(err.status.code, 5); // NOT_FOUND
    assert.ok(err.requestId);
    return true;
  });
});

test("GET /health is healthy", async () => {
  const h = await c.health();
  assert.equal(h.status, "healthy");
});
