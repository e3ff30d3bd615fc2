// GOKERNELS_URL=http://127.0.0.1:8080 npm start
import { GokernelsClient } from "./client";

/** The 4-cycle 0-1-2-3-0: every node's betweenness is 1/6 (normalized). */
export const CYCLE4 = { num_nodes: 4, edges: [[0, 1], [1, 2], [2, 3], [0, 3]], normalized: true };

async function main(): Promise<void> {
  const c = new GokernelsClient(process.env.GOKERNELS_URL ?? "http://127.0.0.1:8080");
  const list = await c.listKernels({ domain: "graph" });
  console.log(`${list.total_count} graph kernels, e.g. ${(list.kernels ?? []).slice(0, 3).map((k) => k.id).join(", ")}`);
  const res = await c.execute({ kernel_id: "graph/betweenness-centrality", input: CYCLE4 });
  console.log(`graph/betweenness-centrality on the 4-cycle (${res.metadata?.backend}, ${res.metadata?.duration_us} µs):`);
  console.log(JSON.stringify(res.output?.["scores"]));
  // The typed route: input and output typed from the spec (GraphPageRankInput/Output).
  const pr = await c.kernel("/kernels/graph/pagerank:execute", { num_nodes: 4, edges: [[0, 1], [1, 2], [2, 3], [0, 3]] });
  console.log(`graph/pagerank (typed route): ${JSON.stringify(pr.scores)} after ${pr.iterations} iterations`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`gokernels: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
