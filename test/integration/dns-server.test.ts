import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultPromise } from 'execa';
import { execa, FIXTURES, inNs, requireRoot, testPrefix } from './helpers.js';
import { waitFor } from '../../src/lab/index.js';

/**
 * `podwire coredns` in a network namespace of its own, asked by the real
 * `dig` over UDP and TCP: cluster names from a zone fixture (no API
 * server), a rewrite, an ExternalName chased to a forwarded name, a large
 * answer that truncates over UDP so dig retries over TCP, /health, /ready,
 * /metrics, the log line, a Corefile edit reloaded, a broken one refused,
 * 2,000 garbage datagrams — and a forwarding loop that stops the process.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const prefix = testPrefix('dns');
const ns = `${prefix}-ns`;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
const corefile = path.join(tmp, 'Corefile');
const fixture = path.join(tmp, 'objects.json');
const BIG = 150;

const corefileText = (extra = '') => `.:53 {
    errors
    log
    health :8080
    ready :8181
    prometheus :9153
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    rewrite name exact db.example.org backend.default.svc.cluster.local
${extra}    forward . 127.0.0.1:5300
    cache 30
    loop
    reload
    loadbalance
}
`;

const objects = [
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'backend', namespace: 'default' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'search', namespace: 'default' },
    spec: { type: 'ExternalName', externalName: 'www.example.org' },
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'big', namespace: 'default' },
    spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'big-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'big' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    endpoints: Array.from({ length: BIG }, (_, i) => ({
      addresses: [`10.244.${1 + (i >> 8)}.${i & 255}`],
      conditions: { ready: true },
    })),
  },
];

let server: ResultPromise | null = null;
let upstream: ResultPromise | null = null;
let serverOut = '';
let upstreamOut = '';

const run = async (argv: string[], timeoutMs: number) => {
  const r = await inNs(ns, argv, { timeoutMs });
  return { stdout: String(r.stdout ?? ''), exitCode: r.exitCode };
};
const dig = (...args: string[]) => run(['dig', '@127.0.0.1', '+tries=1', '+time=3', ...args], 20_000);
const curl = (url: string) => run(['curl', '-s', '-w', '\n%{http_code}', '--max-time', '5', url], 10_000);
const metrics = async () => String((await curl('http://127.0.0.1:9153/metrics')).stdout);
const metric = (text: string, series: string): number => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
};

function spawn(argv: string[], onOut: (s: string) => void): ResultPromise {
  const child = execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, buffer: false, timeout: 180_000 });
  child.stdout!.on('data', (d: Buffer) => onOut(d.toString()));
  child.stderr!.on('data', (d: Buffer) => onOut(d.toString()));
  return child;
}

beforeAll(async () => {
  requireRoot();
  fs.writeFileSync(corefile, corefileText());
  fs.writeFileSync(fixture, JSON.stringify(objects));
  await execa('ip', ['netns', 'add', ns]);
  await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  upstream = spawn(
    [process.execPath, path.join(FIXTURES, 'dns-upstream.mjs'), '127.0.0.1', '5300'],
    (s) => (upstreamOut += s),
  );
  await waitFor('the upstream resolver', 15_000, () => upstreamOut.includes('listening'));
  server = spawn(
    [process.execPath, path.join(repo, 'bin/podwire.js'), 'coredns', '--conf', corefile, '--zone-fixture', fixture],
    (s) => (serverOut += s),
  );
  await waitFor(`podwire coredns to start (output so far: ${serverOut})`, 20_000, () => serverOut.includes('CoreDNS-'));
});

afterAll(async () => {
  for (const c of [server, upstream]) {
    if (c && c.exitCode === null) {
      c.kill('SIGKILL');
      await c.catch(() => {});
    }
  }
  await execa('ip', ['netns', 'del', ns], { reject: false });
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('podwire coredns, asked by dig', () => {
  it('answers a Service name over UDP and over TCP, authoritative, the name spelled as asked', async () => {
    const udp = await dig('backend.default.svc.cluster.local', 'A');
    expect(udp.stdout).toMatch(/status: NOERROR/);
    expect(udp.stdout).toMatch(/flags: qr aa rd;/);
    expect(udp.stdout).toMatch(/^backend\.default\.svc\.cluster\.local\.\s+30\s+IN\s+A\s+10\.96\.0\.20$/m);
    const tcp = await dig('+tcp', 'BackEnd.Default.SVC.cluster.local', 'A');
    expect(tcp.stdout).toMatch(/^BackEnd\.Default\.SVC\.cluster\.local\.\s+\d+\s+IN\s+A\s+10\.96\.0\.20$/m);
    expect(tcp.stdout).toMatch(/\(TCP\)/);
    const srv = await dig('+short', '_http._tcp.backend.default.svc.cluster.local', 'SRV');
    expect(srv.stdout.trim()).toBe('0 100 80 backend.default.svc.cluster.local.');
  });

  it('a large answer truncates over UDP (TC) and dig gets all of it over TCP', async () => {
    const r = await dig('big.default.svc.cluster.local', 'A');
    expect(r.stdout).toContain(';; Truncated, retrying in TCP mode.');
    expect(r.stdout).toMatch(new RegExp(`ANSWER: ${BIG},`));
    const noRetry = await dig('+ignore', 'big.default.svc.cluster.local', 'A');
    expect(noRetry.stdout).toMatch(/flags: qr aa tc rd;/);
    expect(noRetry.stdout).toMatch(/MSG SIZE\s+rcvd: (\d+)/);
    expect(Number(/MSG SIZE\s+rcvd: (\d+)/.exec(noRetry.stdout)![1])).toBeLessThanOrEqual(1232);
    const plain = await dig('+ignore', '+noedns', 'big.default.svc.cluster.local', 'A');
    expect(Number(/MSG SIZE\s+rcvd: (\d+)/.exec(plain.stdout)![1])).toBeLessThanOrEqual(512);
  });

  it('rewrite answers for the name asked; an ExternalName is chased through forward; unknown names are forwarded', async () => {
    const rw = await dig('db.example.org', 'A');
    expect(rw.stdout).toMatch(/^db\.example\.org\.\s+\d+\s+IN\s+A\s+10\.96\.0\.20$/m);
    const ext = await dig('search.default.svc.cluster.local', 'A');
    expect(ext.stdout).toMatch(/^search\.default\.svc\.cluster\.local\.\s+\d+\s+IN\s+CNAME\s+www\.example\.org\.$/m);
    expect(ext.stdout).toMatch(/^www\.example\.org\.\s+\d+\s+IN\s+A\s+203\.0\.113\.7$/m);
    const fwd = await dig('nx-nothing.example.org', 'A');
    expect(fwd.stdout).toMatch(/status: NXDOMAIN/);
    expect(upstreamOut).toContain('asked www.example.org A');
    const nx = await dig('nope.default.svc.cluster.local', 'A');
    expect(nx.stdout).toMatch(/status: NXDOMAIN/);
    expect(nx.stdout).toMatch(/IN\s+SOA\s+ns\.dns\.cluster\.local\./);
  });

  it('logs each query in CoreDNS’s common log format', async () => {
    await dig('+noedns', 'backend.default.svc.cluster.local', 'A');
    await waitFor('the log line', 5000, () =>
      /"A IN backend\.default\.svc\.cluster\.local\. udp \d+ false 512" NOERROR qr,aa,rd \d+/.test(serverOut),
    );
    expect(serverOut).toMatch(
      /^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN backend\.default\.svc\.cluster\.local\. udp \d+ false 512" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/m,
    );
    expect(serverOut).toMatch(
      /^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN backend\.default\.svc\.cluster\.local\. tcp \d+ false 65535" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/m,
    );
  });

  it('/health, /ready and /metrics: CoreDNS’s series count the queries', async () => {
    expect((await curl('http://127.0.0.1:8080/health')).stdout).toBe('OK\n200');
    expect((await curl('http://127.0.0.1:8181/ready')).stdout).toBe('OK\n200');
    const before = await metrics();
    for (let i = 0; i < 3; i++) await dig('_http._tcp.backend.default.svc.cluster.local', 'SRV');
    const after = await metrics();
    const srv = 'coredns_dns_requests_total{server="dns://:53",zone=".",proto="udp",family="1",type="SRV"}';
    expect(metric(after, srv) - metric(before, srv)).toBe(3);
    const hits = 'coredns_cache_hits_total{server="dns://:53",type="success"}';
    expect(metric(after, hits) - metric(before, hits)).toBeGreaterThanOrEqual(2);
    expect(
      metric(after, 'coredns_dns_responses_total{server="dns://:53",zone=".",rcode="NOERROR",plugin="cache"}'),
    ).toBeGreaterThanOrEqual(2);
    expect(metric(after, 'coredns_forward_requests_total{to="127.0.0.1:5300"}')).toBeGreaterThanOrEqual(2);
    expect(after).toContain('coredns_dns_request_duration_seconds_bucket{le="0.00025"');
  });

  it('an edit of the Corefile is reloaded; a broken one is logged with its line and the old one keeps serving', async () => {
    fs.writeFileSync(
      corefile,
      corefileText('    rewrite name exact cache.example.org backend.default.svc.cluster.local\n'),
    );
    await waitFor('the reload', 10_000, () => serverOut.includes('[INFO] Reloading complete'));
    expect((await dig('+short', 'cache.example.org', 'A')).stdout.trim()).toBe('10.96.0.20');
    const broken = corefileText('    bogus\n');
    fs.writeFileSync(corefile, broken);
    const line = broken.split('\n').findIndex((l) => l.includes('bogus')) + 1;
    await waitFor('the reload error', 10_000, () =>
      serverOut.includes(`[ERROR] Corefile:${line}: unknown plugin 'bogus'`),
    );
    expect((await dig('+short', 'cache.example.org', 'A')).stdout.trim()).toBe('10.96.0.20');
    expect(metric(await metrics(), 'coredns_reload_failed_total')).toBe(1);
  });

  it('2,000 garbage datagrams: dropped and counted, and the server still answers', async () => {
    const script = `
      const dgram = require('node:dgram'); const crypto = require('node:crypto');
      const s = dgram.createSocket('udp4'); let sent = 0;
      const q = Buffer.from('04d201000001000000000000076261636b656e640764656661756c74037376630763', 'hex');
      function one() {
        if (sent === 2000) return s.close();
        const k = sent % 4; let b;
        if (k === 0) b = crypto.randomBytes(1 + (sent % 700));
        else if (k === 1) b = q.subarray(0, sent % q.length);
        else if (k === 2) b = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
        else b = Buffer.alloc(5000 + (sent % 3000));
        sent++; s.send(b, 53, '127.0.0.1', one);
      }
      one();`;
    const r = await run([process.execPath, '-e', script], 60_000);
    expect(r.exitCode).toBe(0);
    const m = await metrics();
    const dropped = m
      .split('\n')
      .filter((l) => l.startsWith('podwire_dns_dropped_total{'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(dropped).toBeGreaterThanOrEqual(1500);
    expect(server!.exitCode).toBe(null);
    expect((await dig('+short', 'backend.default.svc.cluster.local', 'A')).stdout.trim()).toBe('10.96.0.20');
    expect((await dig('+tcp', '+short', 'backend.default.svc.cluster.local', 'A')).stdout.trim()).toBe('10.96.0.20');
  });

  it('loop: a server that forwards to itself sees its probe come back and stops', async () => {
    const self = path.join(tmp, 'Corefile.loop');
    fs.writeFileSync(self, '.:5353 {\n    forward . 127.0.0.1:5353\n    loop\n}\n');
    let out = '';
    const child = spawn(
      [process.execPath, path.join(repo, 'bin/podwire.js'), 'coredns', '--conf', self],
      (s) => (out += s),
    );
    const res = await child;
    expect(res.exitCode).toBe(1);
    expect(out).toMatch(
      /\[FATAL\] plugin\/loop: Loop \(127\.0\.0\.1:\d+ -> :5353\) detected for zone "\.", see https:\/\/coredns\.io\/plugins\/loop#troubleshooting\. Query: "HINFO \d+\.\d+\."/,
    );
  });
});
