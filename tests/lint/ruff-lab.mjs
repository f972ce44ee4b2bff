// Lint the lab's Python (configs/lab/*.py, gate/heap/python/*.py) with ruff's
// WebAssembly build, rules B008 and B023 only. Prints one line per finding
// ("path:row:col: CODE message") and a closing line "lint: N findings in M
// files"; exits 1 on any finding, 2 when it cannot run.
// Usage: node tests/lint/ruff-lab.mjs [FILE...]   (default: the lab's files)
import { createRequire } from "node:module";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
const require = createRequire(import.meta.url);
const { Workspace, PositionEncoding } = require("@astral-sh/ruff-wasm-nodejs");

function pyFiles(dir) {
  return readdirSync(join(root, dir))
    .filter((f) => f.endsWith(".py"))
    .sort()
    .map((f) => join(root, dir, f));
}

const files = process.argv.length > 2
  ? process.argv.slice(2).map((f) => resolve(f))
  : [...pyFiles("configs/lab"), ...pyFiles("gate/heap/python")];
if (files.length === 0) {
  console.error("lint: no Python files found");
  process.exit(2);
}

const ws = new Workspace({ lint: { select: ["B008", "B023"] } }, PositionEncoding.Utf16);
console.log(`lint: ruff ${Workspace.version()} (WebAssembly), rules B008 B023`);
let findings = 0;
for (const file of files) {
  const name = relative(process.cwd(), file);
  for (const d of ws.check(readFileSync(file, "utf8"))) {
    findings++;
    const { row, column } = d.start_location;
    console.log(`${name}:${row}:${column}: ${d.code ?? "error"} ${d.message}`);
  }
}
console.log(`lint: ${findings} finding${findings === 1 ? "" : "s"} in ${files.length} files`);
process.exit(findings ? 1 : 0);
