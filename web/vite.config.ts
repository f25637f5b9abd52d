import { defineConfig } from "vite";

// The gateway serves dist/ at / and the API, sign-in and documents on the same origin;
// `npm run dev` proxies those paths to a running `make run` (GATEWAY, default :8000).
const gateway = process.env.GATEWAY ?? "http://127.0.0.1:8000";
const proxied = ["/graphql", "/authorize", "/token", "/revoke", "/logout", "/userinfo",
  "/jwks.json", "/.well-known", "/account", "/documents"];

export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 400 },
  // /graphql also upgrades to WebSocket: the live updates (graphql-transport-ws).
  server: { proxy: Object.fromEntries(proxied.map((p) => [p, { target: gateway, ws: p === "/graphql" }])) },
});
