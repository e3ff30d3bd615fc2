"""Runs the Python client against a real gokernels server.

GOKERNELS_ADDR names the server's gRPC address (scripts/test-python.sh starts
one). Results are checked against networkx, the reference the graph kernels
equal (Debian's python3-networkx).
"""

import os
import random
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import grpc  # noqa: E402
import networkx as nx  # noqa: E402
from google.protobuf import json_format, struct_pb2  # noqa: E402

import gokernels_client  # noqa: E402  (puts clients/python/gen on sys.path)
from gokernels.kernels.graph.v1 import centrality_pb2, service_pb2_grpc  # noqa: E402
from gokernels.v1 import kernel_pb2, kernel_pb2_grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402

ADDR = os.environ.get("GOKERNELS_ADDR", "localhost:50051")


def field_violations(err):
    """The google.rpc.BadRequest field paths of a gRPC error."""
    fields = []
    for key, value in err.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        st = status_pb2.Status.FromString(value)
        for detail in st.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                br = error_details_pb2.BadRequest()
                detail.Unpack(br)
                fields.extend(v.field for v in br.field_violations)
    return fields


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.channel = grpc.insecure_channel(ADDR)
        grpc.channel_ready_future(cls.channel).result(timeout=30)
        cls.client = gokernels_client.Client(channel=cls.channel, timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()

    def test_helper_pagerank_equals_networkx(self):
        rng = random.Random(7)
        n = 40
        edges = sorted({(rng.randrange(n), rng.randrange(n)) for _ in range(160)})
        out = self.client.pagerank(num_nodes=n, edges=edges, directed=True, tolerance=1e-10, max_iterations=500)
        self.assertIsInstance(out, centrality_pb2.PageRankOutput)
        self.assertTrue(out.converged)
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from(edges)
        want = nx.pagerank(g, tol=1e-10, max_iter=500)
        self.assertEqual(len(out.scores), n)
        for v in range(n):
            self.assertAlmostEqual(out.scores[v], want[v], delta=1e-8, msg="node %d" % v)

    def test_generated_stub_degree_centrality(self):
        # The plain stubs, with the edges in each of their two forms: the
        # binary packed_edges, and edges as protojson reads the issue's
        # grpcurl body (each [u, v] a google.protobuf.ListValue).
        stub = service_pb2_grpc.GraphServiceStub(self.channel)
        want = nx.degree_centrality(nx.path_graph(3))
        packed = centrality_pb2.DegreeCentralityInput(num_nodes=3, packed_edges=[0, 1, 1, 2])
        from_json = json_format.Parse('{"num_nodes":3,"edges":[[0,1],[1,2]]}', centrality_pb2.DegreeCentralityInput())
        self.assertEqual(len(from_json.edges), 2)
        for req in (packed, from_json):
            out = stub.DegreeCentrality(req, timeout=30)
            self.assertEqual(list(out.scores), [want[v] for v in range(3)])
        bad = json_format.Parse('{"num_nodes":3,"edges":[[0,"1"]]}', centrality_pb2.DegreeCentralityInput())
        with self.assertRaises(grpc.RpcError) as ctx:
            stub.DegreeCentrality(bad, timeout=30)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("edges[0][1]", field_violations(ctx.exception))

    def test_helper_sends_packed_edges(self):
        msg = self.client.input("graph/pagerank", num_nodes=3, edges=[(0, 1), (1, 2)])
        self.assertEqual(list(msg.packed_edges), [0, 1, 1, 2])
        self.assertEqual(len(msg.edges), 0)
        # Pair lists without a packed twin are sent as [u, v] lists.
        msg = self.client.input("graph/jaccard-similarity", num_nodes=3, edges=[(0, 1)], pairs=[(0, 2)])
        self.assertEqual([list(p.values) for p in msg.pairs], [[struct_pb2.Value(number_value=0), struct_pb2.Value(number_value=2)]])
        out = self.client.jaccard_similarity(num_nodes=3, edges=[(0, 1), (1, 2)], pairs=[(0, 2)])
        self.assertEqual([(p.u, p.v) for p in out.pairs], [(0, 2)])
        self.assertEqual(list(out.scores), [1.0])

    def test_typed_equals_execute(self):
        # The typed RPC and KernelService.Execute run the same kernel.
        edges = [(0, 1), (1, 2), (2, 3), (0, 3)]
        typed = self.client.run("graph/betweenness-centrality", num_nodes=4, edges=edges, normalized=True)
        inp = struct_pb2.Struct()
        inp.update({"num_nodes": 4, "edges": [list(e) for e in edges], "normalized": True})
        resp = kernel_pb2_grpc.KernelServiceStub(self.channel).Execute(
            kernel_pb2.ExecuteRequest(kernel_id="graph/betweenness-centrality", input=inp), timeout=30)
        self.assertEqual(list(typed.scores), list(resp.output["scores"]))
        self.assertEqual(list(typed.scores), [1 / 6] * 4)

    def test_invalid_input_names_the_field(self):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.client.degree_centrality(num_nodes=3, edges=[(0, 5)])
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        # The helper sends edges as packed_edges, so the server names the
        # offending id's position there: edge i is packed_edges[2i].
        self.assertIn("packed_edges[0]", field_violations(ctx.exception))
        with self.assertRaises(grpc.RpcError) as ctx:
            self.client.jaccard_similarity(num_nodes=3, pairs=[(0, 1), (0, 3)])
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("pairs[1]", field_violations(ctx.exception))
        with self.assertRaises(grpc.RpcError) as ctx:
            self.client.pagerank(num_nodes=2, damping=1.5)
        self.assertEqual(ctx.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("damping", field_violations(ctx.exception))

    def test_client_side_errors(self):
        with self.assertRaises(ValueError):
            self.client.pagerank(num_nodes=2, no_such_field=1)
        with self.assertRaises(ValueError):
            self.client.pagerank(num_nodes=3, edges=[(0, 1, 2)])
        with self.assertRaises(ValueError):
            self.client.pagerank(num_nodes=3, edges=[(0, 1.5)])
        with self.assertRaises(KeyError):
            self.client.run("graph/no-such-kernel")

    def test_stubs_cover_the_servers_kernels(self):
        # The generated stubs and the server list the same kernels.
        stub = kernel_pb2_grpc.KernelServiceStub(self.channel)
        served, token = [], ""
        while True:
            page = stub.ListKernels(kernel_pb2.ListKernelsRequest(page_size=500, page_token=token), timeout=30)
            served.extend(k.id for k in page.kernels)
            token = page.next_page_token
            if not token:
                break
        self.assertGreater(len(served), 90)
        self.assertEqual(sorted(served), self.client.kernel_ids())
        for kid in served:
            k = self.client.kernel(kid)
            info = stub.GetKernel(kernel_pb2.GetKernelRequest(kernel_id=kid), timeout=30).kernel
            self.assertEqual(k.input_class.DESCRIPTOR.full_name, info.input_type, kid)
            self.assertEqual(k.output_class.DESCRIPTOR.full_name, info.output_type, kid)
            self.assertEqual(k.modes, list(info.modes), kid)


if __name__ == "__main__":
    unittest.main()
