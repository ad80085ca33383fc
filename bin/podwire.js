#!/usr/bin/env node
// Entry point: the CLI is built into dist/ by `npm ci` (the prepare script): tsc's files, and from
// them the bundle in dist/bundle (scripts/bundle.mjs: a process start reads a few files, not
// hundreds). PODWIRE_NO_BUNDLE=1 runs tsc's files instead (stack traces with their own lines).
// What pods run loads only what it needs: `podwire coredns` (a kube-dns pod) the DNS server
// (src/cli/coredns-main.ts), `podwire ingress-controller` (an ingress-nginx pod) the ingress
// controller (src/cli/ingress-controller-main.ts).
import fs from 'node:fs';

const SLIM = { coredns: 'coredns-main.js', 'ingress-controller': 'ingress-controller-main.js' };
const file = Object.hasOwn(SLIM, process.argv[2] ?? '') ? SLIM[process.argv[2]] : 'main.js';
const bundled = new URL(`../dist/bundle/${file}`, import.meta.url);
const entry = process.env.PODWIRE_NO_BUNDLE !== '1' && fs.existsSync(bundled) ? bundled.href : `../dist/cli/${file}`;
// `podwire get pods -o name | head -1`: the reader went away. Like any Unix tool, stop quietly
// (unless a command, such as capture, handles it itself to finish its work first).
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  if (process.stdout.listenerCount('error') === 1) process.exit(0);
});
import(entry)
  .then((m) => m.main(process.argv))
  .catch((err) => {
    process.stderr.write(`error: ${err?.message ?? err}\n`);
    process.exit(1);
  });
