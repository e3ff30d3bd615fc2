// npm test: runs against the server at GOKERNELS_ADDR (gRPC host:port).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { connect, CYCLE4 } = require('./client');

const addr = process.env.GOKERNELS_ADDR;
if (!addr) {
  console.error('set GOKERNELS_ADDR to the server gRPC address (host:port)');
  process.exit(2);
}

test('gokernels over gRPC', async (t) => {
  const c = connect(addr);
  t.after(() => c.close());

  await t.test('ListKernels lists graph/betweenness-centrality', async () => {
    const res = await c.listKernels({ domain: 'graph', page_size: 500 });
    assert.ok(res.kernels.some((k) => k.id === 'graph/betweenness-centrality'));
    assert.ok(res.kernels.every((k) => k.id.startsWith('graph/')));
  });

  await t.test('Execute betweenness centrality of the 4-cycle: 1/6 each', async () => {
    const { response, output } = await c.execute('graph/betweenness-centrality', CYCLE4);
    assert.equal(response.kernel_id, 'graph/betweenness-centrality');
    assert.equal(output.scores.length, 4);
    for (const s of output.scores) assert.ok(Math.abs(s - 1 / 6) < 1e-12, `score ${s}, want 1/6`);
  });

  await t.test('unknown kernel is NOT_FOUND', async () => {
    await assert.rejects(c.execute('graph/nope', {}), (err) => err.code === 5);
  });

  await t.test('health is healthy', async () => {
    const h = await c.health();
    assert.equal(h.status, 'healthy');
  });
});
