// npm test: builds (types from the OpenAPI spec), then runs against the
// server at GOKERNELS_URL (e.g. http://127.0.0.1:8080).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
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

test("POST /kernels/graph/pagerank:execute (typed route): the 4-cycle ranks 1/4 each", async () => {
  const { data, error, response } = await c.api.POST("/kernels/graph/pagerank:execute", {
    body: { num_nodes: 4, edges: [[0, 1], [1, 2], [2, 3], [0, 3]], damping: 0.85 },
  });
  assert.equal(response.status, 200, JSON.stringify(error));
  assert.ok(data, "no body");
  assert.equal(data.converged, true);
  assert.equal(data.scores?.length, 4);
  for (const s of data.scores ?? []) assert.ok(Math.abs(s - 0.25) < 1e-9, `rank ${s}, want 1/4`);
});

test("kernel(): the typed route's output, typed", async () => {
  const out = await c.kernel("/kernels/graph/pagerank:execute", { num_nodes: 2, edges: [[0, 1]] });
  assert.equal(out.scores?.length, 2);
  assert.ok(Math.abs((out.scores?.[0] ?? 0) - 0.5) < 1e-9, JSON.stringify(out));
});

test("typed route: a bad request is a 400 naming the field", async () => {
  const { error, response } = await c.api.POST("/kernels/graph/pagerank:execute", {
    body: { num_nodes: 2, edges: [[0, 5]] },
  });
  assert.equal(response.status, 400);
  assert.match(error?.message ?? "", /edges/);
});

/** tsc --noEmit on one file with this package's compiler options; its exit code and output. */
function typecheck(file: string): { status: number | null; out: string } {
  const root = resolve(__dirname, "..");
  const dir = mkdtempSync(join(tmpdir(), "gokernels-tsc-"));
  try {
    const cfg = join(dir, "tsconfig.json");
    writeFileSync(cfg, JSON.stringify({
      extends: join(root, "tsconfig.json"),
      compilerOptions: { noEmit: true, rootDir: root, typeRoots: [join(root, "node_modules", "@types")] },
      files: [join(root, file)],
    }));
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
    const r = spawnSync(process.execPath, [tsc, "-p", cfg, "--pretty", "false"], { encoding: "utf8" });
    return { status: r.status, out: (r.stdout ?? "") + (r.stderr ?? "") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("compile time: the typed request compiles", () => {
  const r = typecheck("typecheck/right-field-type.ts");
  assert.equal(r.status, 0, r.out);
});

test("compile time: a wrong field type, a 3-element edge and an unknown field are tsc errors", () => {
  const file = "typecheck/wrong-field-type.ts";
  const want = readFileSync(resolve(__dirname, "..", file), "utf8")
    .split("\n")
    .flatMap((line, i) => (line.includes("// tsc must reject") ? [i + 1] : []));
  assert.equal(want.length, 4);
  const r = typecheck(file);
  assert.notEqual(r.status, 0, "tsc accepted requests that do not match the schema");
  // "typecheck/wrong-field-type.ts(9,7): error TS2322: ..." — one error per marked line, none elsewhere.
  const got = [...r.out.matchAll(/wrong-field-type\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1]));
  assert.deepEqual([...new Set(got)].sort((a, b) => a - b), want, r.out);
});
