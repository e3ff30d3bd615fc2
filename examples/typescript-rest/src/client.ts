// A small typed REST client for gokernels. Every request and response type
// comes from openapi/gokernels.openapi.json (OpenAPI 3) through
// openapi-typescript (`npm run generate` writes src/generated/gokernels.ts):
// when the API changes, `npm run build` regenerates the types and tsc flags
// what broke. The typed kernel routes (POST /kernels/graph/pagerank:execute)
// are typed by path, through `client.kernel(path, input)` or openapi-fetch
// (`client.api.POST(path, { body })`): a wrong field type in a kernel's input
// is a compile error (typecheck/ and test.ts show it).
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, operations, paths } from "./generated/gokernels";

type OperationId = keyof operations;
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
/** The 200 body of an operation. */
export type Ok<K extends OperationId> = operations[K]["responses"] extends { 200: infer R } ? Json<R> : never;
/** The query parameters of an operation. */
export type Query<K extends OperationId> = operations[K]["parameters"] extends { query?: infer Q } ? NonNullable<Q> : never;
/** The JSON body of an operation. */
export type Body<K extends OperationId> = operations[K] extends { requestBody: infer B } ? Json<B> : never;

/** Every schema of the spec, by its published name (GraphPageRankInput, ExecuteRequest, …). */
export type Schemas = components["schemas"];
export type ExecuteRequest = Body<"KernelService_Execute">;
export type ExecuteResponse = Ok<"KernelService_Execute">;
export type KernelInfo = Schemas["KernelInfo"];
/** The typed kernel routes: "/kernels/graph/pagerank:execute", … */
export type KernelRoute = { [P in keyof paths]: P extends `/kernels/${string}:execute` ? P : never }[keyof paths];
/** A typed route's input: GraphPageRankInput for "/kernels/graph/pagerank:execute". */
export type KernelInput<P extends KernelRoute> = paths[P]["post"] extends { requestBody: infer B } ? Json<B> : never;
/** A typed route's output: GraphPageRankOutput for "/kernels/graph/pagerank:execute". */
export type KernelOutput<P extends KernelRoute> = paths[P]["post"] extends { responses: { 200: infer R } } ? Json<R> : never;
export type Status = Schemas["RpcStatus"];

/** A non-2xx answer: the HTTP status, the google.rpc.Status body and the request id. */
export class GokernelsError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly status: Status,
    readonly requestId: string | null,
    readonly retryAfterSeconds: number | null,
  ) {
    super(`HTTP ${httpStatus}: ${status.message ?? "error"}`);
    this.name = "GokernelsError";
  }
}

export interface Options {
  /** Sent as x-api-key when the server runs with GOKERNELS_AUTH. */
  apiKey?: string;
  /** JWT, sent as Authorization: Bearer. */
  token?: string;
  /** Per-request deadline in milliseconds (default 30000) of the methods below; pass `signal` to api calls. */
  timeoutMs?: number;
}

export class GokernelsClient {
  private readonly base: string;
  /**
   * The typed routes, one per kernel: `api.POST("/kernels/graph/pagerank:execute", { body })`
   * answers `{ data, error, response }` with data typed as the kernel's output.
   */
  readonly api: Client<paths>;

  /** baseUrl: e.g. http://127.0.0.1:8080, plus the prefix if the server sets GOKERNELS_HTTP_PREFIX. */
  constructor(baseUrl: string, private readonly opts: Options = {}) {
    this.base = baseUrl.replace(/\/+$/, "");
    this.api = createClient<paths>({ baseUrl: this.base });
    const auth: Middleware = {
      onRequest: ({ request }) => {
        if (this.opts.apiKey) request.headers.set("X-API-Key", this.opts.apiKey);
        if (this.opts.token) request.headers.set("Authorization", `Bearer ${this.opts.token}`);
        return request;
      },
    };
    this.api.use(auth);
  }

  /** GET /kernels */
  listKernels(query: Query<"KernelService_ListKernels"> = {}): Promise<Ok<"KernelService_ListKernels">> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    return this.request("GET", `/kernels${qs ? `?${qs}` : ""}`);
  }

  /** GET /kernels/{kernel_id}: ids contain "/", which stays unescaped in the path. */
  getKernel(kernelId: string): Promise<Ok<"KernelService_GetKernel">> {
    return this.request("GET", `/kernels/${kernelId.split("/").map(encodeURIComponent).join("/")}`);
  }

  /** POST /execute */
  execute(body: ExecuteRequest): Promise<ExecuteResponse> {
    return this.request("POST", "/execute", body);
  }

  /**
   * POST /kernels/<id>:execute: the kernel's typed input in, its typed output
   * back; a non-2xx answer throws GokernelsError. The input is checked
   * against the route's schema at compile time, excess properties and
   * tuple lengths included (openapi-fetch's generic `api.POST` checks field
   * types but, inferring its argument, lets unknown fields through).
   */
  kernel<P extends KernelRoute>(route: P, input: KernelInput<P>): Promise<KernelOutput<P>> {
    return this.request("POST", route, input);
  }

  /** GET /health: the body is returned for 503 (unhealthy) too. */
  health(): Promise<Ok<"HealthService_Check">> {
    return this.request("GET", "/health", undefined, [503]);
  }

  private async request<T>(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.opts.apiKey) headers["X-API-Key"] = this.opts.apiKey;
    if (this.opts.token) headers["Authorization"] = `Bearer ${this.opts.token}`;
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30000),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { message: text };
    }
    if (!res.ok && !okStatuses.includes(res.status)) {
      const retry = res.headers.get("Retry-After");
      throw new GokernelsError(res.status, parsed as Status, res.headers.get("X-Request-ID"), retry === null ? null : Number(retry));
    }
    return parsed as T;
  }
}
