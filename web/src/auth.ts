// Sign-in with authorization code + PKCE (S256) as the public clients business-web / regulator-web
// (and state-web, for the STATE accounts an operator creates).
export type Portal = "business" | "regulator" | "state";

export const CLIENTS: Record<Portal, string> = { business: "business-web", regulator: "regulator-web", state: "state-web" };
export const PORTAL_NAMES: Record<Portal, string> = { business: "Business Portal", regulator: "Regulator Portal", state: "State Portal" };
const SESSION_KEY = "cers.session";
const PENDING_KEY = "cers.pkce";
const SCOPE = "openid profile email offline_access";

export interface Session {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number;
  portal: Portal;
}

interface Pending {
  verifier: string;
  state: string;
  portal: Portal;
  returnTo: string;
}

export const redirectUri = (): string => `${window.location.origin}/auth/callback`;

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(SESSION_KEY);
  return raw ? (JSON.parse(raw) as Session) : null;
}

function store(session: Session | null): void {
  if (session) sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(SESSION_KEY);
  window.dispatchEvent(new Event("cers-session"));
}

export async function signIn(portal: Portal, returnTo = "/"): Promise<void> {
  const verifier = randomString();
  const state = randomString();
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const pending: Pending = { verifier, state, portal, returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const params = new URLSearchParams({
    response_type: "code",
    client_id: CLIENTS[portal],
    redirect_uri: redirectUri(),
    scope: SCOPE,
    state,
    code_challenge: base64url(new Uint8Array(digest)),
    code_challenge_method: "S256",
  });
  window.location.assign(`/authorize?${params}`);
}

async function tokenRequest(form: Record<string, string>, portal: Portal): Promise<Session> {
  const response = await fetch("/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== "string") {
    const reason = String(body.error_description ?? body.error ?? `HTTP ${response.status}`);
    throw new Error(`Sign-in could not be completed (${reason}). Please sign in again.`);
  }
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === "string" ? body.refresh_token : null,
    expiresAt: Date.now() + Number(body.expires_in ?? 900) * 1000,
    portal,
  };
}

/** Finishes the redirect back from /authorize; returns where the user was going. */
export async function completeSignIn(search: URLSearchParams): Promise<string> {
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? "null") as Pending | null;
  if (search.get("error")) {
    throw new Error(search.get("error_description") ?? `Sign-in was refused (${search.get("error")}).`);
  }
  if (!pending || pending.state !== search.get("state") || !search.get("code")) {
    throw new Error("This sign-in link is stale or was opened in another tab. Please sign in again.");
  }
  sessionStorage.removeItem(PENDING_KEY);
  const session = await tokenRequest({
    grant_type: "authorization_code",
    code: search.get("code") ?? "",
    redirect_uri: redirectUri(),
    client_id: CLIENTS[pending.portal],
    code_verifier: pending.verifier,
  }, pending.portal);
  store(session);
  return pending.returnTo;
}

let refreshing: Promise<Session | null> | null = null;

/** A fresh access token, refreshing (with rotation) when it is about to expire. */
export async function accessToken(force = false): Promise<string | null> {
  const session = currentSession();
  if (!session) return null;
  if (!force && session.expiresAt - Date.now() > 30_000) return session.accessToken;
  if (!session.refreshToken) return force ? null : session.accessToken;
  refreshing ??= tokenRequest({
    grant_type: "refresh_token",
    refresh_token: session.refreshToken,
    client_id: CLIENTS[session.portal],
  }, session.portal).then((next) => { store(next); return next; }, () => { store(null); return null; })
    .finally(() => { refreshing = null; });
  return (await refreshing)?.accessToken ?? null;
}

export function signOut(): void {
  const session = currentSession();
  store(null);
  const params = new URLSearchParams({ post_logout_redirect_uri: `${window.location.origin}/` });
  if (session) params.set("client_id", CLIENTS[session.portal]);
  window.location.assign(`/logout?${params}`);
}
