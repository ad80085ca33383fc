#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
// `podwire coredns` (what a kube-dns pod runs) loads only the DNS server: see src/cli/coredns-main.ts.
const entry = process.argv[2] === 'coredns' ? '../dist/cli/coredns-main.js' : '../dist/cli/main.js';
import(entry).then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`error: ${err?.message ?? err}\n`);
  process.exit(1);
});
