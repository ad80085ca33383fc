import { describe, it, expect, afterEach } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import {
  parseResolverConf,
  resolveLikeLibc,
  askServers,
  udpQuery,
  type Outcome,
  type PodResolveReport,
  type Try,
} from '../../../src/resolver/index.js';
import { explainDns, formatTrace, type TraceResult } from '../../../src/trace/index.js';

const POD_RESOLV =
  'search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n';

async function report(
  name: string,
  zone: Record<string, Outcome>,
  fallback: Outcome = { kind: 'answer', rcode: 'NXDOMAIN', addresses: [] },
): Promise<PodResolveReport> {
  const conf = parseResolverConf(POD_RESOLV, { env: {} });
  let ms = 0.4;
  const resolution = await resolveLikeLibc(name, conf, async (n): Promise<Try[]> => {
    const outcome = zone[n] ?? fallback;
    return [
      {
        server: '10.96.0.10',
        outcome,
        latencyMs: outcome.kind === 'timeout' ? 2000 : (ms = Math.round((ms + 0.1) * 10) / 10),
      },
    ];
  });
  return { name, resolvConf: POD_RESOLV, conf, resolution, timeoutMs: 2000, attempts: 1 };
}
const text = (r: PodResolveReport, verdict?: Partial<TraceResult>) => {
  const d = explainDns(r, 'client');
  return formatTrace(
    { layers: d.layers, verdict: 'DNS-FAILED', summary: d.failure?.summary ?? `resolved to ${d.address}`, ...verdict },
    'trace',
  );
};

describe('the DNS layer of a trace', () => {
  it('a Service name: the pod’s resolv.conf, the search order, one query, the answer and its expansion', async () => {
    const r = await report('backend', {
      'backend.default.svc.cluster.local.': { kind: 'answer', rcode: 'NOERROR', addresses: ['10.96.1.2'], ttl: 30 },
    });
    const d = explainDns(r, 'client');
    expect(d.address).toBe('10.96.1.2');
    expect(d.answeredName).toBe('backend.default.svc.cluster.local.');
    expect(d.layers.map((l) => l.what)).toEqual([
      'resolv.conf: nameserver 10.96.0.10; search default.svc.cluster.local svc.cluster.local cluster.local; ndots:5 timeout:5 attempts:2',
      'dns: "backend": 0 dots < ndots:5: the 3 search domains first, then as it is (glibc)',
      'dns: A backend.default.svc.cluster.local. @10.96.0.10 -> NOERROR 10.96.1.2 (ttl 30) in 0.5 ms [search 1/3 (default.svc.cluster.local)]',
      'dns: answered by search 1/3 (default.svc.cluster.local): backend.default.svc.cluster.local. is 10.96.1.2 after 1 query (0.5 ms)',
    ]);
  });

  it('an outside name under ndots:5: three NXDOMAIN first, and the fix named', async () => {
    const r = await report('api.example.com', {
      'api.example.com.': { kind: 'answer', rcode: 'NOERROR', addresses: ['172.28.0.200'] },
    });
    const d = explainDns(r, 'client');
    expect(d.layers.slice(2).map((l) => l.what)).toEqual([
      'dns: A api.example.com.default.svc.cluster.local. @10.96.0.10 -> NXDOMAIN in 0.5 ms [search 1/3 (default.svc.cluster.local)]',
      'dns: A api.example.com.svc.cluster.local. @10.96.0.10 -> NXDOMAIN in 0.6 ms [search 2/3 (svc.cluster.local)]',
      'dns: A api.example.com.cluster.local. @10.96.0.10 -> NXDOMAIN in 0.7 ms [search 3/3 (cluster.local)]',
      'dns: A api.example.com. @10.96.0.10 -> NOERROR 172.28.0.200 in 0.8 ms [as it is]',
      'dns: answered as it is: api.example.com. is 172.28.0.200 after 4 queries (2.6 ms): 3 queries before it (3 NXDOMAIN) — "api.example.com." with a trailing dot, or options ndots:2, asks it first',
    ]);
  });

  it('a name that exists nowhere: the NXDOMAIN ladder, and the verdict says so', async () => {
    const r = await report('nosuch', {});
    expect(text(r)).toBe(
      [
        'trace',
        ' 1. client  resolv.conf: nameserver 10.96.0.10; search default.svc.cluster.local svc.cluster.local cluster.local; ndots:5 timeout:5 attempts:2',
        ' 2. client  dns: "nosuch": 0 dots < ndots:5: the 3 search domains first, then as it is (glibc)',
        ' 3. client  dns: A nosuch.default.svc.cluster.local. @10.96.0.10 -> NXDOMAIN in 0.5 ms [search 1/3 (default.svc.cluster.local)]',
        ' 4. client  dns: A nosuch.svc.cluster.local. @10.96.0.10 -> NXDOMAIN in 0.6 ms [search 2/3 (svc.cluster.local)]',
        ' 5. client  dns: A nosuch.cluster.local. @10.96.0.10 -> NXDOMAIN in 0.7 ms [search 3/3 (cluster.local)]',
        ' 6. client  dns: A nosuch. @10.96.0.10 -> NXDOMAIN in 0.8 ms [as it is]',
        'DNS-FAILED: "nosuch" does not exist: NXDOMAIN for all 4 names the search list made, from 10.96.0.10 (check the name, the Service\'s namespace, and that it exists: kubectl get svc -A)',
      ].join('\n'),
    );
    expect(explainDns(r, 'client').failure).toMatchObject({ reason: 'nxdomain', silentServers: [] });
  });

  it('no answer: which server was silent (the trace follows the path to it next)', async () => {
    const r = await report('backend', {}, { kind: 'timeout' });
    const d = explainDns(r, 'client');
    expect(d.failure).toEqual({
      reason: 'no-answer',
      summary:
        '"backend" does not resolve: 10.96.0.10 did not answer in 2000 ms (the pod\'s resolver waits 5 s × 2 attempts)',
      silentServers: ['10.96.0.10'],
    });
    expect(r.resolution!.queries.map((q) => q.candidate.name)).toEqual([
      'backend.default.svc.cluster.local.',
      'backend.',
    ]);
  });

  it('answers, then silence for the name as it is: the upstream it is forwarded to, not the way to the server', async () => {
    const r = await report('nosuch', { 'nosuch.': { kind: 'timeout' } });
    expect(explainDns(r, 'client').failure).toEqual({
      reason: 'no-answer',
      summary:
        '"nosuch" does not resolve: 10.96.0.10 answered 3 queries but not nosuch. within 2000 ms (a name outside the cluster\'s zones is forwarded upstream — forward . /etc/resolv.conf: is the upstream answering?)',
      silentServers: [],
    });
  });

  it('the report survives JSON (it crosses from the pod as a line of it)', async () => {
    const r = JSON.parse(
      JSON.stringify(
        await report('api.example.com', {
          'api.example.com.': { kind: 'answer', rcode: 'NOERROR', addresses: ['172.28.0.200'] },
        }),
      ),
    );
    expect(explainDns(r, 'client').layers.at(-1)!.what).toContain('3 queries before it (3 NXDOMAIN)');
  });

  it('refused (a Service without endpoints answers ICMP port unreachable): one query, then nothing', async () => {
    const r = await report('backend', {}, { kind: 'refused' });
    const d = explainDns(r, 'client');
    expect(d.layers.at(-1)!.what).toBe(
      'dns: A backend.default.svc.cluster.local. @10.96.0.10 -> refused (ICMP port unreachable: nothing listens there) in 0.5 ms [search 1/3 (default.svc.cluster.local)]',
    );
    expect(d.failure).toMatchObject({ reason: 'refused', silentServers: ['10.96.0.10'] });
  });

  it('/etc/hosts first: no query at all', () => {
    const d = explainDns(
      {
        name: 'client',
        resolvConf: '',
        conf: parseResolverConf('', { env: {} }),
        hosts: { address: '10.244.1.2', names: ['client'], line: 3 },
        timeoutMs: 2000,
        attempts: 1,
      },
      'client',
    );
    expect(d.address).toBe('10.244.1.2');
    expect(d.layers).toEqual([
      {
        where: 'client',
        what: 'hosts: /etc/hosts line 3: 10.244.1.2 client (the files source comes before DNS: no query sent)',
      },
    ]);
  });
});

describe('the stub resolver on the wire (loopback)', () => {
  const closers: (() => void)[] = [];
  afterEach(() => closers.splice(0).forEach((c) => c()));

  /** A tiny DNS server on 127.0.0.1: `big.test` answers truncated over UDP and whole over TCP. */
  async function server(): Promise<number> {
    const answer = (q: ReturnType<typeof packet.decode>, tc: boolean) =>
      packet.encode({
        type: 'response',
        id: q.id,
        flags: packet.RECURSION_AVAILABLE | (tc ? packet.TRUNCATED_RESPONSE : 0),
        questions: q.questions,
        answers: tc ? [] : [{ type: 'A', name: q.questions![0].name, ttl: 5, data: '192.0.2.7' }],
      });
    const udp = dgram.createSocket('udp4');
    udp.on('message', (m, rinfo) => {
      const q = packet.decode(m);
      udp.send(Buffer.from([1, 2, 3]), rinfo.port, rinfo.address); // garbage first: the stub keeps waiting
      udp.send(answer(q, q.questions![0].name === 'big.test'), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    const tcp = net.createServer((s) =>
      s.on('data', (d) => {
        const a = answer(packet.decode(d.subarray(2)), false);
        const len = Buffer.alloc(2);
        len.writeUInt16BE(a.length);
        s.end(Buffer.concat([len, a]));
      }),
    );
    await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', r));
    closers.push(
      () => udp.close(),
      () => tcp.close(),
    );
    return port;
  }

  it('asks over UDP, ignores what does not answer its question, retries a truncated answer over TCP', async () => {
    const port = await server();
    const tries = await askServers('small.test.', { servers: ['127.0.0.1'], timeoutMs: 2000, attempts: 1, port });
    expect(tries[0].outcome).toEqual({ kind: 'answer', rcode: 'NOERROR', addresses: ['192.0.2.7'], ttl: 5 });
    const big = await askServers('big.test.', { servers: ['127.0.0.1'], timeoutMs: 2000, attempts: 1, port });
    expect(big[0].outcome).toMatchObject({ kind: 'answer', addresses: ['192.0.2.7'], tcp: true });
  });

  it('a port where nothing listens: refused (ICMP port unreachable), at once', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const free = probe.address().port;
    probe.close();
    const t0 = Date.now();
    expect(await udpQuery('127.0.0.1', free, 'x.test.', 3000)).toEqual({ kind: 'refused' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
