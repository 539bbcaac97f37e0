// The tenant API under /app (API Gateway + Cognito authorizer in AWS; the local gateway
// verifies the same ID token). Errors arrive in the platform's one error body.
import { currentSession, signOut } from "./auth";
import { config } from "./config";

export interface FieldProblem {
  field: string;
  problem: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  get fields(): FieldProblem[] {
    return (this.details.fields as FieldProblem[] | undefined) ?? [];
  }
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

interface Options {
  body?: unknown;
  ifMatch?: number;
  query?: Record<string, string | number | undefined>;
}

export async function api<T>(method: string, path: string, options: Options = {}): Promise<T> {
  const session = currentSession();
  if (!session) {
    location.hash = "#/login";
    throw new ApiError(401, "unauthorized", "signed out");
  }
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(options.query ?? {})) {
    if (v !== undefined) params.set(k, String(v));
  }
  const qs = params.toString();
  const url = `${config().apiBase}/v1/tenants/${encodeURIComponent(session.tenantId)}${path}${qs ? `?${qs}` : ""}`;
  const headers: Record<string, string> = { Authorization: session.idToken };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.ifMatch !== undefined) headers["If-Match"] = `"${options.ifMatch}"`;
  const answer = await fetch(url, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (answer.status === 401) {
    signOut();
    location.hash = "#/login";
  }
  const data = (await answer.json().catch(() => null)) as unknown;
  if (!answer.ok) {
    const error = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)?.error;
    throw new ApiError(answer.status, error?.code ?? "error", error?.message ?? answer.statusText, error?.details ?? {});
  }
  return data as T;
}
