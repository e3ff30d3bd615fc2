// gokernels gRPC client for Node.js: loads our .proto files at run time
// (no code generation), lists kernels and runs betweenness centrality.
//
//   GOKERNELS_ADDR=127.0.0.1:50051 node client.js
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

// proto/ holds our API; third_party/proto the google.api, buf.validate and
// openapiv2 imports. GOKERNELS_REPO points elsewhere when this folder is copied out.
const REPO = process.env.GOKERNELS_REPO || path.resolve(__dirname, '..', '..');
const INCLUDE_DIRS = [path.join(REPO, 'proto'), path.join(REPO, 'third_party', 'proto')];
const PROTOS = ['gokernels/v1/kernel.proto', 'gokernels/v1/health.proto', 'gokernels/v1/metrics.proto'];

// loadPackage parses the .proto files with protobufjs (what proto-loader's
// loadSync does, plus one exception) and hands the result to proto-loader.
// The exception: buf/validate/validate.proto is not loaded. protobufjs cannot
// parse the lists of messages in its option values, and a client does not
// need it: the (buf.validate.field) rules only annotate fields and the server
// enforces them (INVALID_ARGUMENT with the field named).
function loadPackage() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (target === 'buf/validate/validate.proto') return null; // skipped, see above
    if (path.isAbsolute(target)) return target;
    for (const dir of INCLUDE_DIRS) {
      const file = path.join(dir, target);
      if (fs.existsSync(file)) return file;
    }
    throw new Error(`${target} (imported by ${origin || 'client.js'}) is not in ${INCLUDE_DIRS.join(' or ')}`);
  };
  root.loadSync(PROTOS, { keepCase: true }); // proto field names, as in the REST API: kernel_id, num_nodes
  const def = protoLoader.fromJSON(root.toJSON(), { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true });
  return grpc.loadPackageDefinition(def).gokernels.v1;
}

// ExecuteRequest.input is a google.protobuf.Struct: convert plain JSON to and
// from its Value form. protobufjs bundles google/protobuf/struct.proto with
// camelCase field names (numberValue, listValue, ...), whatever keepCase says.
function toValue(v) {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  switch (typeof v) {
    case 'number': return { numberValue: v };
    case 'string': return { stringValue: v };
    case 'boolean': return { boolValue: v };
    case 'object': return { structValue: toStruct(v) };
    default: throw new TypeError(`cannot send ${typeof v} in a Struct`);
  }
}

function toStruct(obj) {
  const fields = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = toValue(v);
  return { fields };
}

function fromValue(v) {
  switch (v.kind) {
    case 'nullValue': return null;
    case 'numberValue': return v.numberValue;
    case 'stringValue': return v.stringValue;
    case 'boolValue': return v.boolValue;
    case 'structValue': return fromStruct(v.structValue);
    case 'listValue': return (v.listValue.values || []).map(fromValue);
    default: return undefined;
  }
}

function fromStruct(s) {
  const out = {};
  for (const [k, v] of Object.entries((s && s.fields) || {})) out[k] = fromValue(v);
  return out;
}

// connect returns promise-returning wrappers around the generated stubs.
function connect(addr = process.env.GOKERNELS_ADDR || '127.0.0.1:50051', credentials = grpc.credentials.createInsecure()) {
  const pkg = loadPackage();
  const kernels = new pkg.KernelService(addr, credentials);
  const health = new pkg.HealthService(addr, credentials);
  const call = (stub, method, req, timeoutMs = 30000) =>
    new Promise((resolve, reject) => {
      stub[method](req, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  return {
    listKernels: (req = {}) => call(kernels, 'ListKernels', req),
    getKernel: (kernelId) => call(kernels, 'GetKernel', { kernel_id: kernelId }),
    // execute runs a kernel on a JSON input; resolves to {response, output}
    // with output converted back to plain JSON.
    execute: async (kernelId, input, metadata) => {
      const response = await call(kernels, 'Execute', { kernel_id: kernelId, input: toStruct(input), metadata });
      return { response, output: fromStruct(response.output) };
    },
    health: () => call(health, 'Check', {}),
    close: () => {
      kernels.close();
      health.close();
    },
  };
}

// The 4-cycle 0-1-2-3-0: every node's betweenness is 1/6 (normalized).
const CYCLE4 = { num_nodes: 4, edges: [[0, 1], [1, 2], [2, 3], [0, 3]], normalized: true };

async function main() {
  const c = connect();
  try {
    const list = await c.listKernels({ domain: 'graph' });
    console.log(`${list.total_count} graph kernels, e.g. ${list.kernels.slice(0, 3).map((k) => k.id).join(', ')}`);
    const { response, output } = await c.execute('graph/betweenness-centrality', CYCLE4);
    console.log(`graph/betweenness-centrality on the 4-cycle (${response.metadata.backend}, ${response.metadata.duration_us} µs):`);
    console.log(JSON.stringify(output.scores));
  } finally {
    c.close();
  }
}

module.exports = { connect, toStruct, fromStruct, CYCLE4 };

if (require.main === module) {
  main().catch((err) => {
    console.error(`gokernels: ${err.message}`);
    process.exit(1);
  });
}
