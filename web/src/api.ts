import { accessToken } from "./auth";

/** Marks an operation for scripts/check-graphql.mjs; keep operations static text. */
export function gql(strings: TemplateStringsArray): string {
  return strings.join("");
}

export interface UserError {
  field: string[] | null;
  message: string;
  code: string;
  severity: "ERROR" | "WARNING";
}

export class ApiError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

const HINTS: Record<string, string> = {
  UNAUTHENTICATED: "Your session has ended. Sign in again to continue.",
  FORBIDDEN: "You do not have permission for this. Ask a lead user or your agency admin.",
  UNAVAILABLE: "The service is catching up or briefly unavailable. Wait a moment and try again.",
  NETWORK: "The server could not be reached. Check your connection and try again.",
};

export function explain(error: unknown): string {
  if (error instanceof ApiError) {
    const hint = HINTS[error.code];
    return hint && !error.message.includes(hint) ? `${error.message} ${hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

async function post(query: string, variables: object, token: string | null): Promise<Response> {
  return fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
}

export async function request<T>(query: string, variables: object = {}): Promise<T> {
  let response: Response;
  try {
    response = await post(query, variables, await accessToken());
    if (response.status === 401) response = await post(query, variables, await accessToken(true));
  } catch {
    throw new ApiError("The request did not reach the server.", "NETWORK");
  }
  const body = (await response.json().catch(() => null)) as
    | { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] }
    | null;
  if (!body) throw new ApiError(`The server answered HTTP ${response.status}.`, "UNAVAILABLE");
  const first = body.errors?.[0];
  if (body.data == null) {
    throw new ApiError(first?.message ?? "The server returned no data.", first?.extensions?.code ?? "UNAVAILABLE");
  }
  // Partial data (one subgraph failed for one field) is still worth showing.
  if (first) console.warn("GraphQL answered with partial data:", body.errors);
  return body.data;
}

/** Uploads a file to /documents and returns its document id. */
export async function uploadDocument(facilityId: string, file: File): Promise<string> {
  const form = new FormData();
  form.set("file", file);
  const token = await accessToken();
  const response = await fetch(`/documents?facilityId=${encodeURIComponent(facilityId)}`, {
    method: "POST",
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const body = (await response.json().catch(() => ({}))) as { id?: string; error?: { code: string; message: string } };
  if (!response.ok || !body.id) {
    throw new ApiError(body.error?.message ?? `Upload failed (HTTP ${response.status}).`, body.error?.code ?? "UNAVAILABLE");
  }
  return body.id;
}

/** One result of a subscription: what the gateway delivered for one event. */
export interface LiveResult {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/**
 * Follows a subscription over GraphQL over WebSocket (graphql-transport-ws) at the gateway's
 * /graphql: the token goes in connection_init. Calls onOpen once subscribed and onNext for
 * each result; resolves when the server completes or refuses it, rejects when the socket
 * closes first. Abort the signal to stop.
 */
export async function followSubscription(
  query: string, variables: object, onOpen: () => void, onNext: (result: LiveResult) => void,
  signal: AbortSignal,
): Promise<void> {
  const token = await accessToken();
  if (signal.aborted) return;
  const url = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/graphql`;
  await new Promise<void>((resolve, reject) => {
    const socket = new WebSocket(url, "graphql-transport-ws");
    const send = (message: object) => socket.send(JSON.stringify(message));
    const done = () => { resolve(); socket.close(1000); };
    signal.addEventListener("abort", done, { once: true });
    socket.onopen = () => send({ type: "connection_init", payload: token ? { Authorization: `Bearer ${token}` } : {} });
    socket.onmessage = (event: MessageEvent<string>) => {
      const message = JSON.parse(event.data) as { type: string; payload?: unknown };
      if (message.type === "connection_ack") {
        send({ id: "1", type: "subscribe", payload: { query, variables } });
        onOpen();
      } else if (message.type === "ping") {
        send({ type: "pong" });
      } else if (message.type === "next") {
        onNext(message.payload as LiveResult);
      } else if (message.type === "error") {
        onNext({ errors: message.payload as LiveResult["errors"] });
        done();
      } else if (message.type === "complete") {
        done();
      }
    };
    socket.onclose = (event) => reject(new ApiError(`The live connection closed (${event.code}).`,
      event.code === 4403 ? "UNAUTHENTICATED" : "NETWORK"));
  });
}
