// The generated client, configured for the console: cookie session, CSRF header, organization.
import { client } from "./client/client.gen";

export * from "./client/sdk.gen";
export type * from "./client/types.gen";

/** "personal" or an organization id, as it appears in the URL. */
let currentOrg = "personal";

export function setCurrentOrg(org: string) {
  currentOrg = org;
}

export function orgHeaders(org: string = currentOrg): Record<string, string> {
  return org === "personal" ? {} : { "X-Organization-Id": org };
}

export function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)tgflows_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

client.setConfig({ baseUrl: "", credentials: "same-origin" });
client.interceptors.request.use((request) => {
  for (const [name, value] of Object.entries(orgHeaders())) {
    if (!request.headers.has(name)) request.headers.set(name, value);
  }
  if (!["GET", "HEAD"].includes(request.method)) request.headers.set("X-CSRF-Token", csrfToken());
  return request;
});

/** An API answer that was not 2xx, with the sentence to show a person. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public detail: string,
    public field?: string | null,
    public problems?: unknown[] | null,
  ) {
    super(detail);
  }
}

const SENTENCES: Record<number, string> = {
  401: "You are signed out. Sign in again.",
  403: "You don't have permission to do this.",
  404: "This was not found, or you can't see it.",
  409: "This can't be done in the current state.",
  429: "Too many attempts. Wait a moment and try again.",
};

/** A sentence a person understands, with the API's own explanation when it gave one. */
export function errorSentence(err: unknown): string {
  if (err instanceof ApiError) {
    const base = SENTENCES[err.status] ?? "Something went wrong.";
    if (!err.detail) return base;
    if (err.status === 422) return `Invalid input${err.field ? ` (${err.field})` : ""}: ${err.detail}`;
    return `${base} ${err.detail.endsWith(".") ? err.detail : err.detail + "."}`;
  }
  if (err instanceof Error) return `Could not reach the server: ${err.message}`;
  return "Something went wrong.";
}

type Result<T> = { data?: T; error?: unknown; response?: Response };

/** The data of a generated call, or an ApiError. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response && !response.ok) {
    const body = (error ?? {}) as { detail?: unknown; field?: string | null; problems?: unknown[] | null };
    const detail =
      typeof body.detail === "string"
        ? body.detail
        : Array.isArray(body.detail)
          ? body.detail.map((d: { msg?: string }) => d.msg).join("; ")
          : "";
    throw new ApiError(response.status, detail, body.field, body.problems);
  }
  return data as T;
}

/** Download a GET endpoint's body as a file (sends the organization header). */
export async function download(url: string, filename: string): Promise<void> {
  const response = await fetch(url, { headers: orgHeaders(), credentials: "same-origin" });
  if (!response.ok) throw new ApiError(response.status, await response.text());
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(link.href);
}
