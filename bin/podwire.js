#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`error: ${err?.message ?? err}\n`);
  process.exit(1);
});
