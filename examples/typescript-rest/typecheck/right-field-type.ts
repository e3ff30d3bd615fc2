// Compiles: the typed PageRank route with its input's real field types.
// (test.ts runs tsc --noEmit on this file and on wrong-field-type.ts; the
// same calls run against a real server in test.ts.)
import { GokernelsClient } from "../src/client";

export async function pagerank(c: GokernelsClient): Promise<number[]> {
  const out = await c.kernel("/kernels/graph/pagerank:execute", { num_nodes: 3, edges: [[0, 1], [1, 2]], damping: 0.85 });
  const { data, error } = await c.api.POST("/kernels/graph/pagerank:execute", {
    body: { num_nodes: 3, edges: [[0, 1], [1, 2]], damping: 0.85 },
  });
  if (error) throw new Error(error.message);
  return [...(out.scores ?? []), ...(data.scores ?? [])];
}
