// The API client: JSON over fetch with the session cookie, the CSRF token on
// every unsafe request, and errors as ApiError with the server's code.

export interface ProblemDetail {
  pointer?: string;
  message: string;
  line?: number;
  row?: number;
  column?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string;
  readonly details: ProblemDetail[];
  readonly body: Record<string, unknown>;

  constructor(status: number, code: string, message: string, body: Record<string, unknown>) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = typeof body.request_id === "string" ? body.request_id : "";
    this.details = Array.isArray(body.details) ? (body.details as ProblemDetail[]) : [];
    this.body = body;
  }
}

let csrfToken = "";

// The token that POST, PUT, PATCH and DELETE send in X-CSRF-Token.
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

// Called when a request gets 401, so that the app can show sign-in.
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    const parsed = (await response.json()) as { error?: Record<string, unknown> };
    body = parsed.error ?? {};
  } catch {
    // Not JSON: the response came from a proxy or a dropped connection.
  }
  const code = typeof body.code === "string" ? body.code : `http_${response.status}`;
  const message =
    typeof body.message === "string"
      ? body.message
      : `the server answered ${response.status} ${response.statusText}`;
  return new ApiError(response.status, code, message, body);
}

// Sends one request to PATH (starting with /api/) and returns the response
// once it is known to be successful. Throws ApiError otherwise.
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = options.method ?? (options.json !== undefined || options.body ? "POST" : "GET");
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.contentType) {
    headers["Content-Type"] = options.contentType;
  }
  if (method !== "GET" && method !== "HEAD" && csrfToken) {
    headers["X-CSRF-Token"] = csrfToken;
  }

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") {
      throw error;
    }
    throw new ApiError(0, "network", "the server could not be reached; check that smmhub-api runs", {});
  }
  if (response.ok) {
    return response;
  }
  const error = await errorFrom(response);
  if (response.status === 401 && onUnauthorized && path !== "/api/v1/session") {
    onUnauthorized();
  }
  throw error;
}

// Sends a request and returns its JSON body (undefined for 204).
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) {
    return undefined as T;
  }
  return (await response.json()) as T;
}

// A fresh key for the Idempotency-Key header of one user action.
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

// Returns the message a person reads for ERROR: the server's message, with
// what to do for the errors that have an obvious next step.
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : String(error);
  }
  switch (error.code) {
    case "network":
      return error.message;
    case "unauthenticated":
      return "Your session has ended. Sign in again.";
    case "forbidden":
      return `${error.message}. Ask an owner of your agency for the editor role.`;
    case "csrf_failed":
      return "The page is out of date. Reload it and try again.";
    case "rate_limited":
      return `${error.message}. Wait a moment and try again.`;
    case "unavailable":
      return `${error.message}. The service is starting or busy; try again shortly.`;
    default:
      return error.message;
  }
}
