import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, inNs, requireRoot, testPrefix } from './helpers.js';
import { waitFor } from '../../src/lab/wait.js';

// The workload's hand-written HTTP parser, fuzzed (libFuzzer, with
// AddressSanitizer and UBSan) from a seed corpus of real clients' requests
// (src/native/workload/fuzz/corpus: curl, wget, busybox wget, Python, Node,
// kubectl, nc, netexec's own /dial), and the whole workload built with
// AddressSanitizer and UBSan answering those requests, the fuzzer's corpus
// and real clients in a network namespace of its own. A crash, a sanitizer
// report or a broken property of the fuzz target fails the test.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = path.join(ROOT, 'src/native/workload');
const FUZZ = path.join(SRC, 'fuzz');
const SEEDS = path.join(FUZZ, 'corpus');
const FUZZ_SECONDS = 30;
const NS = testPrefix('fz');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pwfuzz-'));
const FUZZER = path.join(tmp, 'http_parse_fuzz');
const ASAN_BIN = path.join(tmp, 'podwire-workload-asan');
const WORK = path.join(tmp, 'corpus');
const SANITIZERS = ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined', '-fno-omit-frame-pointer'];
const SANITIZER_ENV = {
  ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};
/** what a sanitizer prints when it finds something */
const REPORT = /AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer/;

type Child = ReturnType<typeof execa>;
const started: Child[] = [];

interface Running {
  child: Child;
  stdout: () => string;
  stderr: () => string;
}

async function startAsan(args: string[]): Promise<Running> {
  const child = execa('ip', ['netns', 'exec', NS, ASAN_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', POD_NAME: 'fuzz-0', ...SANITIZER_ENV },
    extendEnv: false,
    reject: false,
    timeout: 120_000,
  });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let exited = false;
  void child.then(() => (exited = true));
  await waitFor(`podwire-workload (ASan) ${args.join(' ')} listening`, 15_000, () => {
    if (exited) throw new Error(`podwire-workload (ASan) ${args.join(' ')} exited: ${err}`);
    return out.includes('listening on');
  });
  return { child, stdout: () => out, stderr: () => err };
}

// Sends each file to 127.0.0.1:port on a connection of its own — whole, or in
// pieces of (1 + first byte % 97) bytes as the fuzz target cuts them — then
// half-closes and reads until the server closes. Prints the status lines seen.
const SENDER = `
const net = require('net'), fs = require('fs');
const [port, listFile, mode] = process.argv.slice(1);
const files = JSON.parse(fs.readFileSync(listFile, 'utf8'));
const results = [];
let next = 0;
function one(file) {
  return new Promise((resolve) => {
    const bytes = fs.readFileSync(file);
    const cut = 1 + (bytes[0] ?? 0) % 97, data = bytes.subarray(1);
    let got = Buffer.alloc(0);
    const s = net.connect(Number(port), '127.0.0.1');
    s.setNoDelay(true);
    const timer = setTimeout(() => { s.destroy(); done('timeout'); }, 10000);
    const done = (how) => {
      clearTimeout(timer);
      const statuses = [...got.toString('latin1').matchAll(/^HTTP\\/1\\.1 (\\d{3}) /gm)].map((m) => Number(m[1]));
      results.push({ file, how, statuses, bytes: got.length });
      resolve();
    };
    s.on('data', (d) => (got = Buffer.concat([got, d])));
    s.on('close', () => done('closed'));
    s.on('error', () => {});
    s.on('connect', async () => {
      if (mode === 'pieces')
        for (let o = 0; o < data.length; o += cut) {
          if (!s.write(data.subarray(o, o + cut))) await new Promise((r) => s.once('drain', r));
          await new Promise((r) => setImmediate(r));
        }
      else s.write(data);
      s.end();
    });
  });
}
(async () => {
  const worker = async () => { while (next < files.length) await one(files[next++]); };
  await Promise.all(Array.from({ length: 8 }, worker));
  process.stdout.write(JSON.stringify(results));
})();
`;

// Sends each file (but its first byte) as one datagram, then "hostname", and prints the answer to that.
const UDP_SENDER = `
const dgram = require('dgram'), fs = require('fs');
const [port, listFile] = process.argv.slice(1);
const files = JSON.parse(fs.readFileSync(listFile, 'utf8'));
const s = dgram.createSocket('udp4');
s.bind(0, '127.0.0.1', async () => {
  for (const f of files) {
    await new Promise((r) => s.send(fs.readFileSync(f).subarray(1, 60000), Number(port), '127.0.0.1', r));
  }
  const t = setInterval(() => s.send('hostname', Number(port), '127.0.0.1'), 200);
  s.on('message', (m) => {
    if (m.toString() !== 'fuzz-0') return;
    clearInterval(t);
    process.stdout.write(m.toString());
    process.exit(0);
  });
  setTimeout(() => process.exit(1), 10000);
});
`;

interface Sent {
  file: string;
  how: 'closed' | 'timeout';
  statuses: number[];
  bytes: number;
}

async function send(port: number, files: string[], mode: 'whole' | 'pieces'): Promise<Sent[]> {
  const list = path.join(tmp, `list-${port}-${mode}.json`);
  fs.writeFileSync(list, JSON.stringify(files));
  const r = await inNs(NS, [process.execPath, '-e', SENDER, String(port), list, mode], { timeoutMs: 120_000 });
  if (r.exitCode !== 0) throw new Error(`sender failed: ${String(r.stderr)}`);
  return JSON.parse(String(r.stdout)) as Sent[];
}

async function stop(w: Running, how: 'SIGTERM' | null): Promise<{ code: number | undefined; stderr: string }> {
  if (how) w.child.kill(how);
  const r = await w.child;
  return { code: r.exitCode, stderr: w.stderr() };
}

const seedFiles = () =>
  fs
    .readdirSync(SEEDS)
    .sort()
    .map((f) => path.join(SEEDS, f));

beforeAll(async () => {
  requireRoot();
  const cc = await execa('clang', ['--version'], { reject: false });
  if (cc.exitCode !== 0)
    throw new Error(
      'clang is missing: the fuzz target and the ASan build need it (apt-get install clang libclang-rt-dev)',
    );
  const units = fs
    .readdirSync(SRC)
    .filter((f) => f.endsWith('.c'))
    .map((f) => path.join(SRC, f));
  const [fuzzer, asan] = await Promise.all([
    execa(
      'clang',
      [
        '-g',
        '-O1',
        '-fsanitize=fuzzer',
        ...SANITIZERS,
        `-I${SRC}`,
        path.join(FUZZ, 'http_parse_fuzz.c'),
        path.join(SRC, 'http_parse.c'),
        path.join(SRC, 'text.c'),
        '-o',
        FUZZER,
      ],
      { reject: false },
    ),
    execa('clang', ['-g', '-O1', '-std=gnu11', ...SANITIZERS, ...units, '-o', ASAN_BIN], { reject: false }),
  ]);
  if (fuzzer.exitCode !== 0)
    throw new Error(
      `building the fuzz target failed (libFuzzer's runtime is in libclang-rt-dev):\n${String(fuzzer.stderr)}`,
    );
  if (asan.exitCode !== 0) throw new Error(`the ASan build of the workload failed:\n${String(asan.stderr)}`);
  fs.mkdirSync(WORK);
  await execa('ip', ['netns', 'add', NS]);
  await execa('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
}, 120_000);

afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
  await Promise.all(started.map((c) => c.catch(() => undefined)));
  await execa('ip', ['netns', 'del', NS], { reject: false });
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the HTTP request parser under libFuzzer (ASan + UBSan)', () => {
  it(`runs ${FUZZ_SECONDS} s from the real requests' corpus: no crash, no sanitizer report, every property holds`, async () => {
    const r = await execa(
      FUZZER,
      [
        `-max_total_time=${FUZZ_SECONDS}`,
        '-max_len=20000',
        '-timeout=10',
        '-print_final_stats=1',
        `-dict=${path.join(FUZZ, 'http.dict')}`,
        `-artifact_prefix=${tmp}/`,
        WORK,
        SEEDS,
      ],
      { reject: false, env: SANITIZER_ENV, timeout: (FUZZ_SECONDS + 60) * 1000 },
    );
    const log = String(r.stderr);
    const crash = fs.readdirSync(tmp).find((f) => /^(crash|leak|timeout|oom)-/.test(f));
    if (r.exitCode !== 0 || crash) {
      const input = crash ? fs.readFileSync(path.join(tmp, crash)) : Buffer.alloc(0);
      throw new Error(
        `the fuzzer found ${crash ?? 'a failure'} (exit ${r.exitCode}); input (hex): ${input.toString('hex').slice(0, 2000)}\n${log.slice(-6000)}`,
      );
    }
    const done = /#(\d+)\s+DONE\s+cov: (\d+) ft: (\d+) corp: (\d+)\//.exec(log);
    expect(done, log.slice(-2000)).not.toBeNull();
    const [execs, cov, features, corpus] = done!.slice(1).map(Number);
    console.log(
      `fuzz: ${execs} executions in ${FUZZ_SECONDS} s, ${cov} edges, ${features} features, corpus ${corpus} inputs`,
    );
    expect(execs).toBeGreaterThan(1_000); // ~60,000 on an idle 2-core machine; far fewer while the suite runs beside it
    expect(cov).toBeGreaterThan(150); // the seeds alone reach the parser's request line, headers, framing and queries
    expect(log).not.toMatch(REPORT);
  }, 120_000);
});

describe('the workload built with AddressSanitizer and UBSan', () => {
  it('answers every real client request whole and in pieces (http, tcp), then exits cleanly on SIGTERM', async () => {
    const http = await startAsan(['http', '--ports', '80', '--server', 'nginx']);
    const tcp = await startAsan(['tcp', '--ports', '5432', '--server', 'postgres']);
    const seeds = seedFiles();
    for (const mode of ['whole', 'pieces'] as const) {
      const answers = await send(80, seeds, mode);
      expect(answers).toHaveLength(seeds.length);
      for (const a of answers) {
        const name = path.basename(a.file);
        expect(a.how, `${name} (${mode})`).toBe('closed');
        // every real client gets an answer; the pipelined pair gets two
        expect(a.statuses.length, `${name} (${mode})`).toBe(name === 'nc-pipelined' ? 2 : 1);
      }
      const status = (n: string) => answers.find((a) => path.basename(a.file) === n)!.statuses[0];
      expect(status('curl-get')).toBe(200);
      expect(status('kubectl-get-pods')).toBe(200);
      expect(status('curl-post-query')).toBe(405); // nginx's answer to POST on static content
      expect(status('node-chunked-post')).toBe(411); // chunked request bodies: a length is asked for
      expect(status('long-target-414')).toBe(414);
      expect(status('long-headers-431')).toBe(431);
      expect(status('near-limit-ok')).toBe(200);
      const generic = await send(5432, seeds, mode);
      for (const a of generic) expect(a.how, `${path.basename(a.file)} to the generic listener`).toBe('closed');
    }
    // a request refused after its line was split: the log shows the line as sent (it showed "GET\\x00/a\\x01b\\x00HTTP/1.1\\x00")
    const bad = path.join(tmp, 'bad-target');
    fs.writeFileSync(bad, Buffer.from('\x05GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'));
    expect((await send(80, [bad], 'whole'))[0].statuses).toEqual([400]);
    await waitFor('the refused request in the log', 5000, () => / "GET \/a\\x01b HTTP\/1\.1" 400 /.test(http.stdout()));
    for (const w of [http, tcp]) {
      const { code, stderr } = await stop(w, 'SIGTERM');
      expect(stderr).not.toMatch(REPORT);
      expect(code).toBe(0);
    }
  }, 120_000);

  it("serves the fuzzer's corpus and netexec's endpoints (/dial over HTTP and UDP) without a report, then /exit", async () => {
    const nx = await startAsan(['netexec', '--http-port', '8080', '--udp-port', '8081']);
    // every input the fuzzer kept (new coverage), but none that would stop netexec early
    const corpus = [...seedFiles(), ...fs.readdirSync(WORK).map((f) => path.join(WORK, f))].filter(
      (f) => !/\/(exit|shutdown)/.test(fs.readFileSync(f, 'latin1')),
    );
    expect(corpus.length).toBeGreaterThan(20);
    const answers = await send(8080, corpus, 'pieces');
    for (const a of answers)
      expect(
        a.how,
        `${path.basename(a.file)} (${a.bytes} bytes answered): ${fs.readFileSync(a.file).toString('hex').slice(0, 400)}`,
      ).toBe('closed');
    const curl = async (url: string) =>
      String((await inNs(NS, ['curl', '-sS', '--max-time', '15', `http://127.0.0.1:8080${url}`])).stdout);
    expect(await curl('/dial?request=hostname&protocol=udp&host=127.0.0.1&port=8081&tries=3')).toBe(
      '{"responses":["fuzz-0","fuzz-0","fuzz-0"]}',
    );
    expect(
      await curl('/dial?request=echo%3Fmsg%3D%25E2%259C%2593&protocol=http&host=127.0.0.1&port=8080&tries=2'),
    ).toBe('{"responses":["✓","✓"]}');
    expect(await curl('/dial?request=x&protocol=http&host=127.0.0.1&port=9')).toContain('connect: connection refused');
    expect(await curl('/echo?msg=caf%C3%A9+%3F%zz&code=299')).toBe('café ?%zz');
    expect(await curl(`/redirect?location=${'/a'.repeat(3000)}&code=307`)).toBe('');
    // the same bytes as UDP datagrams to netexec's command listener, then a command it must still answer
    const list = path.join(tmp, 'udp-list.json');
    fs.writeFileSync(list, JSON.stringify(corpus));
    const u = await inNs(NS, [process.execPath, '-e', UDP_SENDER, '8081', list]);
    expect(String(u.stdout)).toBe('fuzz-0');
    await curl('/exit?code=0');
    const { code, stderr } = await stop(nx, null);
    expect(stderr).not.toMatch(REPORT);
    expect(code).toBe(0);
    expect(nx.stdout()).toContain('Will begin shutdown');
  }, 120_000);
});
