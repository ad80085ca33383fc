#!/usr/bin/env node
// The CLI as a bundle: dist/bundle/ holds the CLI and the two programs pods run (CoreDNS, the
// ingress controller) as a few chunks, npm packages included, built from tsc's dist/.
//
// Why: every `podwire …`, every agent, every kube-dns and ingress pod is a process start, and
// loading ~430 of dist's files plus execa's, zod's and undici's hundreds cost about a second of
// CPU each — seconds on a loaded machine, in every workshop command and test. A bundle reads a
// handful of files; main.ts's VERBS table loads one verb's chunk. bin/podwire.js runs the bundle
// when it is there (PODWIRE_NO_BUNDLE=1: dist/'s files, for debugging with their line numbers).
//
// Left outside the bundle: node-pty (a native addon), etcd3 (gRPC loads its .proto files from its
// own folder), pcap-parser (loaded by require at its use). Everything finds its files through
// src/host/package-root.ts, so a module's place in the bundle does not matter.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'bundle');
fs.rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['dist/cli/main.js', 'dist/cli/coredns-main.js', 'dist/cli/ingress-controller-main.js'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  external: ['node-pty', 'etcd3', 'pcap-parser'],
  // CommonJS packages inside an ES module bundle call require() for Node's own modules
  banner: {
    js: "import { createRequire as __podwireRequire } from 'node:module'; const require = __podwireRequire(import.meta.url);",
  },
  logLevel: 'warning',
});

// The page of `podwire ui` (src/ui/web/, issue #16): Preact + elkjs bundled for the browser into
// dist/ui/ (index.html, app.js, app.css), which the UI server serves as static files. Everything
// the page runs is in these three files: nothing is loaded from outside at run time (no CDN).
// dist/ui/ also holds tsc's output of the server (src/ui/*.ts): only the page's three files are
// (over)written here, never the folder cleared.
const uiOut = path.join(root, 'dist', 'ui');
await build({
  absWorkingDir: root,
  entryPoints: { app: 'src/ui/web/main.tsx' },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  outdir: uiOut,
  tsconfig: 'src/ui/web/tsconfig.json',
  logLevel: 'warning',
});
fs.copyFileSync(path.join(root, 'src', 'ui', 'web', 'index.html'), path.join(uiOut, 'index.html'));
