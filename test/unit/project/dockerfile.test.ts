import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The Dockerfile without a Docker engine: its install and build steps are the
// ones .ci/run exercises on every submission (the same Debian packages, npm ci,
// the build), and it copies everything those steps and the runtime need.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions: comment lines dropped (also inside a continuation, as Docker does), `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (cur === '' && line.trim() === '')) continue;
    if (line.endsWith('\\')) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    cur += line;
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(cur);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].replace(/\s+/g, ' ').trim() });
    cur = '';
  }
  return out;
}

/** Shell text with `\` continuations joined and comments dropped. */
const shellLines = (text: string) =>
  text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l));

/** The packages of every `apt-get install` in a shell text: the words after `install` that are not options, up to the end of that command. */
function aptPackages(shell: string): string[] {
  const pkgs: string[] = [];
  for (const line of shellLines(shell)) {
    for (const cmd of line.split(/&&|\|\||;/)) {
      const m = /\bapt-get\s+install\b(.*)$/.exec(cmd);
      if (!m) continue;
      pkgs.push(
        ...m[1]
          .trim()
          .split(/\s+/)
          .filter((w) => w && !w.startsWith('-')),
      );
    }
  }
  return pkgs;
}

/** The shell commands of RUN instructions, in order, split at `&&`. */
const runCommands = (ins: Instruction[]) =>
  ins.filter((i) => i.op === 'RUN').flatMap((i) => i.args.split('&&').map((c) => c.trim()));

const dockerfile = parseDockerfile(read('Dockerfile'));
const ciRun = read('.ci/run');

describe('Dockerfile', () => {
  it('builds on Debian bookworm with Node 20, the Node the project requires', () => {
    const from = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(from).toEqual(['node:20-bookworm-slim']);
    const engines = JSON.parse(read('package.json')).engines.node as string;
    expect(engines).toBe('>=20');
  });

  it('installs every Debian package .ci/run installs (but the test-only kubectl), plus dig', () => {
    const image = new Set(
      aptPackages(
        dockerfile
          .filter((i) => i.op === 'RUN')
          .map((i) => i.args)
          .join('\n'),
      ),
    );
    const ci = aptPackages(ciRun);
    // the runtime tools and the node-gyp toolchain CI installs: all of them must be there
    expect(ci).toEqual(
      expect.arrayContaining([
        'iproute2',
        'tcpdump',
        'tshark',
        'iperf3',
        'curl',
        'busybox',
        'python3',
        'make',
        'g++',
        'etcd-server',
      ]),
    );
    // kubernetes-client: the real kubectl that .ci/run fetches for the API server's interop tests, not a learner's tool;
    // clang and libclang-rt-dev: the workload's fuzz target and sanitizer builds (workload-fuzz.test.ts)
    // chromium: the browser the web view's tests drive (ui-browser.test.ts)
    const testOnly = new Set(['kubernetes-client', 'clang', 'libclang-rt-dev', 'chromium']);
    const missing = ci.filter((p) => !testOnly.has(p) && !image.has(p));
    expect(missing).toEqual([]);
    // what the workshop asks of nodes and pods beyond CI's list: dig
    expect(image.has('bind9-dnsutils')).toBe(true);
    // apt's recommends stay out (as in CI), and the lists are not kept in the image
    const aptRun = dockerfile.find((i) => i.op === 'RUN' && i.args.includes('apt-get install'))!.args;
    expect(aptRun).toContain('apt-get install -y --no-install-recommends');
    expect(aptRun).toMatch(/apt-get update .*apt-get install .*rm -rf \/var\/lib\/apt\/lists/);
  });

  it('runs the same npm steps as CI: npm ci, then npm run build (which npm test runs first)', () => {
    const cmds = runCommands(dockerfile);
    const ci = cmds.indexOf('npm ci');
    const build = cmds.indexOf('npm run build');
    expect(ci).toBeGreaterThan(-1);
    expect(build).toBeGreaterThan(ci);
    // CI: `npm ci`, then `npm test`, whose first step is the same build
    expect(shellLines(ciRun).map((l) => l.trim())).toEqual(expect.arrayContaining(['npm ci', 'npm test']));
    expect(JSON.parse(read('package.json')).scripts.test).toMatch(/^npm run build && /);
    // and it checks that npm ci built the native addon and the workload binary
    expect(cmds).toEqual(
      expect.arrayContaining(['test -x build/Release/podwire-workload', 'test -f build/Release/podwire_native.node']),
    );
  });

  it('copies, before npm ci, everything npm ci uses: the lockfile, binding.gyp and its sources, the TypeScript', () => {
    const firstNpmCi = dockerfile.findIndex((i) => i.op === 'RUN' && i.args.includes('npm ci'));
    const copied = dockerfile
      .slice(0, firstNpmCi)
      .filter((i) => i.op === 'COPY')
      .flatMap((i) => i.args.split(' ').slice(0, -1));
    for (const f of ['package.json', 'package-lock.json', 'binding.gyp', 'tsconfig.json', 'tsconfig.build.json', 'src'])
      expect(copied, f).toContain(f);
    const covered = (p: string) => copied.some((c) => p === c || p.startsWith(`${c}/`));
    // every source node-gyp compiles
    const gypSources = [...read('binding.gyp').matchAll(/"(src\/[^"]+\.(?:c|cc))"/g)].map((m) => m[1]);
    expect(gypSources.length).toBeGreaterThan(0);
    for (const s of gypSources) {
      expect(covered(s), s).toBe(true);
      expect(fs.existsSync(path.join(root, s)), s).toBe(true);
    }
    // everything tsc compiles
    for (const inc of JSON.parse(read('tsconfig.build.json')).include as string[]) expect(covered(inc), inc).toBe(true);
    // every path copied exists
    for (const c of copied) expect(fs.existsSync(path.join(root, c)), c).toBe(true);
  });

  it('copies what runs: the CLI, the entrypoints, the demo app; and puts podwire on PATH', () => {
    const copied = dockerfile.filter((i) => i.op === 'COPY').flatMap((i) => i.args.split(' ').slice(0, -1));
    for (const d of ['bin', 'containers', 'examples']) expect(copied, d).toContain(d);
    const workdir = dockerfile.find((i) => i.op === 'WORKDIR')!.args;
    expect(workdir).toBe('/opt/podwire');
    const bin = JSON.parse(read('package.json')).bin.podwire as string;
    expect(runCommands(dockerfile)).toContain(`ln -s ${workdir}/${bin} /usr/local/bin/podwire`);
    expect(runCommands(dockerfile)).toContain('podwire --help >/dev/null');
  });
});

describe('the parsers the checks above use', () => {
  it('join continuations, drop comments, and read apt-get install lists', () => {
    const ins = parseDockerfile(
      'FROM x\n# note\nRUN a \\\n  # inside\n  && apt-get install -y --no-install-recommends p1 \\\n     p2 && echo\n',
    );
    expect(ins).toEqual([
      { op: 'FROM', args: 'x' },
      { op: 'RUN', args: 'a && apt-get install -y --no-install-recommends p1 p2 && echo' },
    ]);
    expect(aptPackages(ins[1].args)).toEqual(['p1', 'p2']);
    expect(aptPackages('command -v k || apt-get install -y --no-install-recommends kubernetes-client\n')).toEqual([
      'kubernetes-client',
    ]);
  });
});
