// Must NOT compile: each line marked "tsc must reject" is a request that
// does not match the kernel's input schema. test.ts runs tsc --noEmit on
// this file and asserts that it fails with errors on exactly those lines.
import { GokernelsClient } from "../src/client";

export async function wrong(c: GokernelsClient): Promise<void> {
  await c.kernel("/kernels/graph/pagerank:execute", {
    num_nodes: "3", // tsc must reject: num_nodes is an int32 (number)
    edges: [[0, 1]],
  });
  await c.kernel("/kernels/graph/pagerank:execute", {
    num_nodes: 3,
    edges: [[0, 1, 2]], // tsc must reject: an edge is [source, target]
  });
  await c.kernel("/kernels/graph/pagerank:execute", {
    num_nodes: 3,
    dampening: 0.9, // tsc must reject: no such field (damping)
  });
  await c.api.POST("/kernels/graph/pagerank:execute", {
    body: {
      num_nodes: "3", // tsc must reject: the same through openapi-fetch
    },
  });
}
