// Composes a supergraph from subgraph SDLs with @theguild/federation-composition (MIT).
// stdin: JSON [{"name": "...", "url": "...", "sdl": "..."}]; stdout: the supergraph SDL.
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { composeServices } from "@theguild/federation-composition";

const services = JSON.parse(readFileSync(0, "utf8"));
const result = composeServices(
  services.map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) })),
);
if (result.errors && result.errors.length) {
  for (const e of result.errors) console.error(`composition error: ${e.message}`);
  process.exit(1);
}
process.stdout.write(result.supergraphSdl);
