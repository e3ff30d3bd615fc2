// A small typed REST client for gokernels. Every request and response type
// comes from openapi/gokernels.swagger.json through openapi-typescript
// (`npm run generate` writes src/generated/gokernels.ts): when the API
// changes, `npm run build` regenerates the types and tsc flags what broke.
import type { definitions, operations } from "./generated/gokernels";

type OperationId = keyof operations;
/** The 200 body of an operation. */
export type Ok<K extends OperationId> = operations[K]["responses"] extends { 200: { schema: infer S } } ? S : never;
/** The query parameters of an operation. */
export type Query<K extends OperationId> = operations[K] extends { parameters: { query: infer Q } } ? Q : never;
/** The JSON body of an operation. */
export type Body<K extends OperationId> = operations[K] extends { parameters: { body: { body: infer B } } } ? B : never;

export type ExecuteRequest = Body<"KernelService_Execute">;
export type ExecuteResponse = Ok<"KernelService_Execute">;
export type KernelInfo = definitions["v1KernelInfo"];
export type Status = definitions["rpcStatus"];

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
  /** Per-request deadline in milliseconds (default 30000). */
  timeoutMs?: number;
}

export class GokernelsClient {
  private readonly base: string;

  /** baseUrl: e.g. http://127.0.0.1:8080, plus the prefix if the server sets GOKERNELS_HTTP_PREFIX. */
  constructor(baseUrl: string, private readonly opts: Options = {}) {
    this.base = baseUrl.replace(/\/+$/, "");
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
