#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
// What pods run loads only what it needs: `podwire coredns` (a kube-dns pod) the DNS server
// (src/cli/coredns-main.ts), `podwire ingress-controller` (an ingress-nginx pod) the ingress
// controller (src/cli/ingress-controller-main.ts).
const SLIM = { coredns: '../dist/cli/coredns-main.js', 'ingress-controller': '../dist/cli/ingress-controller-main.js' };
const entry = Object.hasOwn(SLIM, process.argv[2] ?? '') ? SLIM[process.argv[2]] : '../dist/cli/main.js';
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
