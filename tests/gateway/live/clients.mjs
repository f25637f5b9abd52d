// The reference subscription clients against the gateway: graphql-ws (graphql-transport-ws)
// or graphql-sse (distinct connections). One JSON argument:
//   {"protocol": "ws" | "sse", "url": ".../graphql", "token": "..." | null,
//    "query": "subscription ...", "variables": {...}, "count": N}
// Prints one JSON line per happening: {"event": "connected"}, {"event": "next", "payload"},
// {"event": "error", "error"}, {"event": "complete"}; exits after N results or at the end.
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import WebSocket from "ws";

const args = JSON.parse(process.argv[2]);
const auth = args.token ? `Bearer ${args.token}` : undefined;
const emit = (line) => process.stdout.write(JSON.stringify(line) + "\n");
let received = 0;
let client;

function describe(error) {
  if (Array.isArray(error)) return error;  // GraphQL errors
  if (error && typeof error.code === "number") return { closeCode: error.code, reason: error.reason };
  return { message: String(error && error.message ? error.message : error) };
}

if (args.protocol === "ws") {
  client = createWsClient({
    url: args.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: auth ? { Authorization: auth } : {},
    retryAttempts: 0,
    on: { connected: () => emit({ event: "connected" }) },
  });
} else {
  client = createSseClient({
    url: args.url,
    headers: auth ? { Authorization: auth } : {},
    singleConnection: false,
    retryAttempts: 0,
  });
}

client.subscribe(
  { query: args.query, variables: args.variables || {} },
  {
    next: (payload) => {
      emit({ event: "next", payload });
      received += 1;
      if (args.count && received >= args.count) {
        client.dispose();
        process.exit(0);
      }
    },
    error: (error) => {
      emit({ event: "error", error: describe(error) });
      process.exit(0);
    },
    complete: () => {
      emit({ event: "complete" });
      process.exit(0);
    },
  },
);
