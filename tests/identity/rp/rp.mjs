// A relying party built on openid-client, driven one command at a time by
// tests/identity/test_rp_conformance.py: one JSON object per line on stdin
// ({id, op, args}), one answer per line on stdout ({id, ok, result} or {id, ok: false, error}).
// The test plays the browser (the hosted sign-in pages); this process is the client app.
import * as client from "openid-client";
import { createInterface } from "node:readline";

const configs = new Map();

function config(name) {
  const found = configs.get(name);
  if (!found) throw new Error(`no configuration named ${name}; run discover first`);
  return found;
}

function authentication(kind, secret) {
  if (kind === "basic") return client.ClientSecretBasic(secret);
  if (kind === "post") return client.ClientSecretPost(secret);
  return client.None();
}

function tokens(response) {
  const claims = response.claims ? response.claims() : undefined;
  return { ...response, claims: claims ?? null };
}

const ops = {
  async discover({ name, issuer, clientId, secret, auth = "none", algorithm = "oidc" }) {
    const found = await client.discovery(new URL(issuer), clientId, secret ? { client_secret: secret } : {},
      authentication(auth, secret), { execute: [client.allowInsecureRequests], algorithm });
    configs.set(name, found);
    return found.serverMetadata();
  },
  async pkce() {
    const verifier = client.randomPKCECodeVerifier();
    return { verifier, challenge: await client.calculatePKCECodeChallenge(verifier) };
  },
  async authorizationUrl({ name, params }) {
    return client.buildAuthorizationUrl(config(name), params).href;
  },
  async codeGrant({ name, currentUrl, checks, parameters }) {
    return tokens(await client.authorizationCodeGrant(config(name), new URL(currentUrl), checks, parameters));
  },
  async refresh({ name, refreshToken }) {
    return tokens(await client.refreshTokenGrant(config(name), refreshToken));
  },
  async userinfo({ name, accessToken, subject }) {
    return await client.fetchUserInfo(config(name), accessToken, subject);
  },
  async revoke({ name, token, hint }) {
    await client.tokenRevocation(config(name), token, hint ? { token_type_hint: hint } : {});
    return null;
  },
  async clientCredentials({ name, params }) {
    return tokens(await client.clientCredentialsGrant(config(name), params));
  },
  async endSessionUrl({ name, params }) {
    return client.buildEndSessionUrl(config(name), params).href;
  },
};

function describe(error) {
  // A WWW-Authenticate challenge carries the OAuth error in its parameters.
  const challenge = Array.isArray(error?.cause) ? error.cause[0]?.parameters : undefined;
  return {
    name: error?.name ?? "Error",
    message: String(error?.message ?? error),
    code: error?.code ?? null,
    error: error?.error ?? challenge?.error ?? null,
    error_description: error?.error_description ?? challenge?.error_description ?? null,
    status: error?.status ?? error?.response?.status ?? null,
    cause: error?.cause?.message ?? (typeof error?.cause === "object" ? JSON.stringify(error.cause) : null),
  };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  const { id, op, args } = JSON.parse(line);
  let answer;
  try {
    if (!ops[op]) throw new Error(`unknown op ${op}`);
    answer = { id, ok: true, result: await ops[op](args ?? {}) };
  } catch (error) {
    answer = { id, ok: false, error: describe(error) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
