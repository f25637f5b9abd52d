// Validates every gql`...` operation in src/ against gateway/supergraph.graphql, so a schema
// change that breaks the portal fails `npm run build`.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { buildSchema, parse, validate, Source } from "graphql";

const root = new URL("..", import.meta.url).pathname;
const supergraphPath = process.env.SUPERGRAPH ?? join(root, "..", "gateway", "supergraph.graphql");
const schema = buildSchema(readFileSync(supergraphPath, "utf8"), { assumeValidSDL: true });

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|tsx)$/.test(name)) yield path;
  }
}

const pattern = /gql`([^`]*)`/g;
let count = 0;
const problems = [];
for (const file of files(join(root, "src"))) {
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(pattern)) {
    const body = match[1];
    const line = text.slice(0, match.index).split("\n").length;
    const where = `${relative(root, file)}:${line}`;
    if (body.includes("${")) {
      problems.push(`${where}: operations must be static text (no \${...}); use variables`);
      continue;
    }
    count += 1;
    try {
      const errors = validate(schema, parse(new Source(body, where)));
      for (const error of errors) problems.push(`${where}: ${error.message}`);
    } catch (error) {
      problems.push(`${where}: ${error.message}`);
    }
  }
}
if (problems.length) {
  console.error(`GraphQL operations that do not match ${supergraphPath}:`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`${count} GraphQL operations match ${relative(process.cwd(), supergraphPath)}`);
