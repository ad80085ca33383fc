import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, inNs, requireRoot, testPrefix } from './helpers.js';
import { waitFor } from '../../src/lab/wait.js';

// The built-in workloads (src/native/workload.c), each run in a network
// namespace of its own as the kubelet runs them, talked to from inside the
// namespace with curl and small Node clients.

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../build/Release/podwire-workload');
const NS = testPrefix('wl');
const POD = {
  POD_NAME: 'web-7f9c',
  POD_NAMESPACE: 'shop',
  POD_IP: '10.244.1.7',
  NODE_NAME: 'node2',
  HOSTNAME: 'web-7f9c',
};

type Child = ReturnType<typeof execa>;
const started: Child[] = [];

interface Workload {
  child: Child;
  pid: number;
  stdout: () => string;
}

/** Starts the workload in the namespace (ip netns exec execs it: same PID) and waits for `ready` on stdout. */
async function start(args: string[], ready: string | null = 'listening on'): Promise<Workload> {
  const child = execa('ip', ['netns', 'exec', NS, BIN, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...POD },
    extendEnv: false,
    reject: false,
    timeout: 100_000,
  });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  void child.then(() => (exited = true));
  if (ready) {
    await waitFor(`"${ready}" from podwire-workload ${args.join(' ')}`, 10_000, () => {
      if (exited) throw new Error(`podwire-workload ${args.join(' ')} exited`);
      return out.includes(ready);
    });
  }
  return { child, pid: child.pid!, stdout: () => out };
}

async function curl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  // the bodies' final newlines matter here: keep them
  const r = await execa('ip', ['netns', 'exec', NS, 'curl', '-sS', '--max-time', '10', ...args], {
    reject: false,
    stripFinalNewline: false,
  });
  return { code: r.exitCode ?? -1, out: String(r.stdout), err: String(r.stderr) };
}

// A raw TCP client: sends `payload` (optionally only after the server's first
// line), then reads until the server closes, or until `stopAt` has arrived.
const RAW_CLIENT = `
const net = require('net');
const [port, payloadB64, stopAtB64, afterBanner] = process.argv.slice(1);
const payload = Buffer.from(payloadB64, 'base64');
const stopAt = Buffer.from(stopAtB64, 'base64').toString('latin1');
let got = Buffer.alloc(0), wrote = false;
const finish = (o) => { process.stdout.write(JSON.stringify({ data: got.toString('latin1'), ...o })); process.exit(0); };
const timer = setTimeout(() => finish({ closed: false, timedOut: true }), 8000);
const s = net.connect(Number(port), '127.0.0.1');
s.on('connect', () => { if (afterBanner !== '1') { wrote = true; s.write(payload); } });
s.on('data', (d) => {
  got = Buffer.concat([got, d]);
  if (!wrote && got.includes(10)) { wrote = true; s.write(payload); }
  if (wrote && stopAt && got.toString('latin1').includes(stopAt)) { clearTimeout(timer); s.destroy(); finish({ closed: false }); }
});
s.on('end', () => { clearTimeout(timer); finish({ closed: true }); });
s.on('error', (e) => { clearTimeout(timer); finish({ closed: true, error: e.code }); });
`;

async function raw(port: number, payload: string, opts: { stopAt?: string; afterBanner?: boolean } = {}) {
  const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');
  const r = await inNs(NS, [
    process.execPath,
    '-e',
    RAW_CLIENT,
    String(port),
    b64(payload),
    b64(opts.stopAt ?? ''),
    opts.afterBanner ? '1' : '0',
  ]);
  return JSON.parse(String(r.stdout)) as { data: string; closed: boolean; timedOut?: boolean; error?: string };
}

// A UDP client: sends each message after the previous one was answered.
const UDP_CLIENT = `
const dgram = require('dgram');
const [port, msgsJson] = process.argv.slice(1);
const msgs = JSON.parse(msgsJson), out = [];
const s = dgram.createSocket('udp4');
let i = 0;
const done = () => { process.stdout.write(JSON.stringify(out)); process.exit(0); };
const next = () => (i === msgs.length ? done() : s.send(msgs[i++], Number(port), '127.0.0.1'));
s.on('message', (m, r) => { out.push({ text: m.toString(), from: r.address + ':' + r.port, port: s.address().port }); next(); });
setTimeout(done, 5000);
s.bind(0, '127.0.0.1', next);
`;

async function udp(port: number, msgs: string[]): Promise<{ text: string; from: string; port: number }[]> {
  const r = await inNs(NS, [process.execPath, '-e', UDP_CLIENT, String(port), JSON.stringify(msgs)]);
  return JSON.parse(String(r.stdout));
}

const page = (server: string, local: string, client: string) =>
  `${server} on pod shop/web-7f9c (${local}, node node2): you came from ${client}\n`;

beforeAll(async () => {
  requireRoot();
  const c = await execa('curl', ['--version'], { reject: false });
  if (c.exitCode !== 0)
    throw new Error(
      "curl is missing: these tests talk to the workloads with the machine's own curl (apt-get install curl)",
    );
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build it with npm rebuild (node-gyp)`);
  await execa('ip', ['netns', 'add', NS]);
  await execa('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
});

afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.pid) c.kill('SIGKILL');
  await Promise.all(started.map((c) => c.catch(() => undefined)));
  await execa('ip', ['netns', 'del', NS], { reject: false });
});

describe('http (nginx)', () => {
  let w: Workload;
  beforeAll(async () => {
    w = await start(['http', '--ports', '80,8080', '--server', 'nginx']);
  });

  it('says where it listens, then names the pod and the client on every port', async () => {
    expect(w.stdout()).toContain('nginx (podwire built-in) listening on :80, :8080\n');
    for (const port of [80, 8080]) {
      const r = await curl('-i', '-w', '%{local_port}', `http://127.0.0.1:${port}/some/path`);
      const [headers, body] = r.out.split('\r\n\r\n');
      const head = `${headers}\r\n`;
      const clientPort = body.slice(body.lastIndexOf('\n') + 1);
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head).toContain('\r\nServer: nginx (podwire built-in)\r\n');
      expect(head).toContain('\r\nX-Pod-Name: web-7f9c\r\n');
      expect(body).toBe(page('nginx', `127.0.0.1:${port}`, `127.0.0.1:${clientPort}`) + clientPort);
      expect(w.stdout()).toContain(`127.0.0.1:${clientPort} "GET /some/path HTTP/1.1" 200`);
    }
  });

  it('keeps the connection alive for a second request', async () => {
    const r = await curl('-w', '[%{local_port}]', 'http://127.0.0.1/a', 'http://127.0.0.1/b');
    const ports = [...r.out.matchAll(/you came from 127\.0\.0\.1:(\d+)\n\[(\d+)\]/g)];
    expect(ports).toHaveLength(2);
    expect(ports[0][1]).toBe(ports[1][1]);
    expect(ports[0][2]).toBe(ports[0][1]);
  });

  it('closes after HTTP/1.0 and after Connection: close, and answers HEAD and /healthz', async () => {
    const v10 = await raw(80, 'GET / HTTP/1.0\r\n\r\n');
    expect(v10.data).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*Connection: close\r\n/);
    expect(v10.closed).toBe(true);
    const close = await raw(80, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(close.closed).toBe(true);
    const head = await raw(80, 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n', { stopAt: 'X-Pod-Name: web-7f9c\r\n\r\n' });
    expect(head.data).toMatch(/Content-Length: \d+\r\n/);
    expect(head.data.endsWith('\r\n\r\n')).toBe(true);
    expect((await curl('http://127.0.0.1/healthz')).out).toBe('ok\n');
  });

  it('answers 405 to POST after reading its body, and keeps serving on that connection', async () => {
    const r = await raw(
      80,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(r.data).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n[^]*Allow: GET, HEAD\r\n/);
    expect(r.data).toMatch(/HTTP\/1\.1 200 OK\r\n[^]*you came from/);
    expect(w.stdout()).toMatch(/"GET \/after HTTP\/1\.1" 200/);
  });

  it('answers malformed requests with 400/411/414/431, closes, and keeps serving', async () => {
    const cases: [string, number][] = [
      ['GARBAGE\r\n\r\n', 400],
      ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 400],
      ['GET / HTTP/1.1\r\n\r\n', 400], // HTTP/1.1 without Host
      ['GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n', 400],
      ['GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
      ['GET / HTTP/2.0\r\nHost: x\r\n\r\n', 505],
      ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 411],
      [`GET /${'a'.repeat(20_000)} HTTP/1.1\r\n\r\n`, 414],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
    ];
    for (const [payload, status] of cases) {
      const r = await raw(80, payload);
      const what = JSON.stringify(payload.slice(0, 40));
      expect(r.data, what).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(r.closed, what).toBe(true);
    }
    // a client that resets mid-request
    await inNs(NS, [
      process.execPath,
      '-e',
      `const s=require('net').connect(80,'127.0.0.1',()=>{s.write('GET / HT');s.resetAndDestroy();});`,
    ]);
    expect(w.stdout()).toContain('"GARBAGE" 400');
    expect(w.stdout()).toContain('"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03" 400');
    const after = await curl('http://127.0.0.1/still-alive');
    expect(after.out).toContain('nginx on pod shop/web-7f9c');
    expect(w.child.exitCode).toBe(null);
  });

  it('answers over IPv6 when the namespace has ::1', async () => {
    const lo6 = await execa('ip', ['-n', NS, '-6', 'addr', 'show', 'dev', 'lo'], { reject: false });
    if (!String(lo6.stdout).includes('::1')) return; // IPv6 disabled on this machine: IPv4 only, by design
    const r = await curl('-g', '-w', '%{local_port}', 'http://[::1]:8080/');
    const port = r.out.slice(r.out.lastIndexOf('\n') + 1);
    expect(r.out).toBe(page('nginx', '[::1]:8080', `[::1]:${port}`) + port);
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const r = await inNs(NS, [BIN, 'http', '--ports', '8081,80']);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr).trim()).toBe('bind 0.0.0.0:80/TCP: Address already in use');
  });

  it('exits 0 on SIGTERM', async () => {
    w.child.kill('SIGTERM');
    const r = await w.child;
    expect(r.exitCode).toBe(0);
  });
});

describe('tcp (generic listener, postgres)', () => {
  beforeAll(async () => {
    const w = await start(['tcp', '--ports', '5432', '--udp-ports', '5432,5353', '--server', 'postgres']);
    expect(w.stdout()).toContain('postgres (podwire built-in) listening on :5432, :5432/UDP, :5353/UDP\n');
  });

  it('greets with the identity line, then echoes what it reads', async () => {
    const r = await raw(5432, 'hello podwire\nsecond line\n', { afterBanner: true, stopAt: 'second line\n' });
    const m = /^postgres on pod shop\/web-7f9c \(127\.0\.0\.1:5432\): you came from 127\.0\.0\.1:(\d+)\n/.exec(r.data);
    expect(m).not.toBe(null);
    expect(r.data.slice(m![0].length)).toBe('hello podwire\nsecond line\n');
  });

  it('answers an HTTP client with the page instead', async () => {
    const r = await curl('-w', '%{local_port}', 'http://127.0.0.1:5432/');
    const port = r.out.slice(r.out.lastIndexOf('\n') + 1);
    expect(r.out).toBe(page('postgres', '127.0.0.1:5432', `127.0.0.1:${port}`) + port);
  });

  it('answers each UDP datagram with the identity line', async () => {
    const [a, b] = await udp(5353, ['anything', 'again']);
    expect(a.text).toBe(`postgres on pod shop/web-7f9c (127.0.0.1:5353): you came from 127.0.0.1:${a.port}\n`);
    expect(a.from).toBe('127.0.0.1:5353');
    expect(b.text).toBe(a.text);
  });
});

describe('netexec (agnhost)', () => {
  beforeAll(async () => {
    const w = await start(['netexec', '--http-port=8080', '--udp-port', '8081']);
    expect(w.stdout()).toContain('netexec (podwire built-in) listening on :8080, :8081/UDP\n');
  });

  it('serves the agnhost endpoints', async () => {
    expect((await curl('http://127.0.0.1:8080/')).out).toMatch(/^NOW: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect((await curl('http://127.0.0.1:8080/hostname')).out).toBe('web-7f9c');
    const ip = await curl('-w', ' %{local_port}', 'http://127.0.0.1:8080/clientip');
    const [addr, port] = ip.out.split(' ');
    expect(addr).toBe(`127.0.0.1:${port}`);
    expect((await curl('http://127.0.0.1:8080/echo?msg=hello+podwire%21')).out).toBe('hello podwire!');
    expect((await curl('-w', ' %{http_code}', 'http://127.0.0.1:8080/echo?msg=gone&code=404')).out).toBe('gone 404');
    expect((await curl('-w', '%{http_code}', 'http://127.0.0.1:8080/healthz')).out).toBe('200');
    const shell = await curl('-w', ' %{http_code}', 'http://127.0.0.1:8080/shell?cmd=id');
    expect(shell.out).toMatch(/does not run shell commands[^]* 403$/);
  });

  it('dials over HTTP and UDP like agnhost /dial', async () => {
    const viaHttp = await curl(
      'http://127.0.0.1:8080/dial?request=hostname&protocol=http&host=127.0.0.1&port=8080&tries=2',
    );
    expect(JSON.parse(viaHttp.out)).toEqual({ responses: ['web-7f9c', 'web-7f9c'] });
    const viaUdp = await curl(
      'http://127.0.0.1:8080/dial?request=hostname&protocol=udp&host=127.0.0.1&port=8081&tries=1',
    );
    expect(JSON.parse(viaUdp.out)).toEqual({ responses: ['web-7f9c'] });
    const refused = await curl(
      'http://127.0.0.1:8080/dial?request=hostname&protocol=http&host=127.0.0.1&port=9&tries=1',
    );
    expect(JSON.parse(refused.out)).toEqual({
      errors: ['Get "http://127.0.0.1:9/hostname": dial tcp 127.0.0.1:9: connect: connection refused'],
    });
    expect((await curl('-w', ' %{http_code}', 'http://127.0.0.1:8080/dial?host=127.0.0.1&port=8080')).out).toBe(
      'request parameter not specified. <nil>\n 400',
    );
  });

  it('answers the UDP commands', async () => {
    const [host, echo, clientip] = await udp(8081, ['hostname', 'echo Hi There', 'clientip']);
    expect(host.text).toBe('web-7f9c');
    expect(echo.text).toBe('hi there'); // upstream lower-cases the whole datagram
    expect(clientip.text).toBe(`127.0.0.1:${clientip.port}`);
  });

  it('/exit?code=N answers, then exits with N', async () => {
    const w = await start(['netexec', '--http-port=9090', '--udp-port=-1']);
    expect((await curl('-w', '%{http_code}', 'http://127.0.0.1:9090/healthz')).out).toBe('412'); // no UDP server: not ready, as upstream
    expect((await curl('-w', '%{http_code}', 'http://127.0.0.1:9090/exit?code=3')).out).toBe('200');
    expect((await w.child).exitCode).toBe(3);
  });
});

describe('serve-hostname (agnhost)', () => {
  it('answers every request with the hostname, without a newline', async () => {
    await start(['serve-hostname']);
    expect((await curl('http://127.0.0.1:9376/anything')).out).toBe('web-7f9c');
  });

  it('serves raw TCP and UDP with --http=false, and refuses HTTP together with them', async () => {
    const w = await start(['serve-hostname', '--tcp', '--udp', '--http=false', '--port', '9377']);
    expect(w.stdout()).toContain('listening on :9377, :9377/UDP');
    const r = await raw(9377, '');
    expect(r).toMatchObject({ data: 'web-7f9c', closed: true });
    expect((await udp(9377, ['x']))[0].text).toBe('web-7f9c');
    const both = await inNs(NS, [BIN, 'serve-hostname', '--tcp']);
    expect(both.exitCode).toBe(1);
    expect(String(both.stderr)).toContain("Can't server TCP/UDP mode and HTTP mode at the same time");
  });
});

describe('connect (agnhost)', () => {
  beforeAll(async () => {
    await start(['http', '--ports', '7000']);
    // a route out of a veth whose peer (no address, another MAC) drops what
    // arrives: SYNs vanish, so a connect there can only time out
    await execa('ip', ['-n', NS, 'link', 'add', 'pwtdrop0', 'type', 'veth', 'peer', 'name', 'pwtdrop1']);
    await execa('ip', ['-n', NS, 'link', 'set', 'pwtdrop0', 'up']);
    await execa('ip', ['-n', NS, 'link', 'set', 'pwtdrop1', 'up']);
    await execa('ip', ['-n', NS, 'route', 'add', '192.0.2.0/24', 'dev', 'pwtdrop0']);
    await execa('ip', [
      '-n',
      NS,
      'neigh',
      'add',
      '192.0.2.1',
      'lladdr',
      '02:00:00:00:00:01',
      'dev',
      'pwtdrop0',
      'nud',
      'permanent',
    ]);
  });

  it('exits 0 when it connects', async () => {
    const r = await inNs(NS, [BIN, 'connect', '127.0.0.1:7000', '--timeout=5s']);
    expect(r.exitCode).toBe(0);
    expect(String(r.stderr)).toBe('');
  });

  it('exits 1 with REFUSED, TIMEOUT, DNS or UNKNOWN on stderr', async () => {
    const cases: [string[], RegExp][] = [
      [['127.0.0.1:7001'], /^REFUSED$/],
      [['192.0.2.1:80', '--timeout', '300ms'], /^TIMEOUT$/],
      [['no-such-host.invalid:80', '--timeout=1s'], /^DNS: lookup no-such-host\.invalid: /],
      [['127.0.0.1'], /^UNKNOWN: address 127\.0\.0\.1: missing port in address$/],
    ];
    for (const [args, want] of cases) {
      const r = await inNs(NS, [BIN, 'connect', ...args]);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(String(r.stderr).trim()).toMatch(want);
    }
  });
});

describe('pause, help and usage', () => {
  it('pause sleeps until SIGTERM, then exits 0', async () => {
    const w = await start(['pause'], null);
    // ready when the SIGTERM handler is installed (bit 15 of SigCgt)
    await waitFor('pause to catch SIGTERM', 10_000, () => {
      const m = /SigCgt:\s+([0-9a-f]+)/.exec(readFileSync(`/proc/${w.pid}/status`, 'utf8'));
      return !!m && (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n;
    });
    expect(w.child.exitCode).toBe(null);
    w.child.kill('SIGTERM');
    expect((await w.child).exitCode).toBe(0);
  });

  it('help prints usage and exits 0; bad modes and flags exit 2', async () => {
    const help = await inNs(NS, [BIN, 'help']);
    expect(help.exitCode).toBe(0);
    expect(String(help.stdout)).toMatch(/^usage: podwire-workload MODE/);
    for (const args of [
      [],
      ['bogus'],
      ['http', '--ports', '0'],
      ['http', '--nope'],
      ['netexec', '--http-port=x'],
      ['connect'],
    ]) {
      const r = await inNs(NS, [BIN, ...args]);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(String(r.stderr)).toContain('usage: podwire-workload MODE');
    }
  });
});
