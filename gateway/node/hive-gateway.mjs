// Serves Hive Gateway (@graphql-hive/gateway-runtime, MIT) over supergraph files: the second
// reference of the differential tests. One process serves several supergraphs, each on its own
// port, which saves a node start per supergraph. Forwards Authorization and x-request-id.
// Usage: node hive-gateway.mjs <supergraph.graphql> <port> [<supergraph> <port> ...]
// Prints "READY <url>" for each once listening.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";

function serve(supergraphPath, port) {
  const gateway = createGatewayRuntime({
    supergraph: readFileSync(supergraphPath, "utf8"),
    logging: false,
    propagateHeaders: {
      fromClientToSubgraphs({ request }) {
        const headers = {};
        for (const name of ["authorization", "x-request-id"]) {
          const value = request.headers.get(name);
          if (value) headers[name] = value;
        }
        return headers;
      },
    },
  });
  return new Promise((resolve) => {
    createServer(gateway).listen(Number(port), "127.0.0.1", () => {
      console.log(`READY http://127.0.0.1:${port}/graphql`);
      resolve();
    });
  });
}

const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
  await serve(args[i], args[i + 1]);
}
