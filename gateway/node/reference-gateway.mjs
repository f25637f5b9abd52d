// Serves @apollo/gateway over supergraph files: the reference for differential tests and a
// competitor in the benchmark. Forwards Authorization and x-request-id.
// Usage: node reference-gateway.mjs <supergraph.graphql> <port> [<supergraph> <port> ...]
// Prints "READY <url>" for each once listening.
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";

async function serve(supergraphPath, port) {
  const gateway = new ApolloGateway({
    supergraphSdl: readFileSync(supergraphPath, "utf8"),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request, context }) {
          for (const name of ["authorization", "x-request-id"]) {
            if (context[name]) request.http.headers.set(name, context[name]);
          }
        },
      }),
  });
  const server = new ApolloServer({ gateway, csrfPrevention: false, introspection: true });
  const { url } = await startStandaloneServer(server, {
    listen: { port: Number(port), host: "127.0.0.1" },
    context: async ({ req }) => ({
      authorization: req.headers.authorization,
      "x-request-id": req.headers["x-request-id"],
    }),
  });
  console.log(`READY ${url}`);
}

const args = process.argv.slice(2);
for (let i = 0; i + 1 < args.length; i += 2) {
  await serve(args[i], args[i + 1]);
}
