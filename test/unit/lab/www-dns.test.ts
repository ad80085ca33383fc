// The outside's DNS: answers (pure), counts, and the UDP/TCP server on
// loopback (including what www's /dns.json reports).

import { describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import http from 'node:http';
import packet, { type Packet } from 'dns-packet';
import {
  wwwDnsAnswer,
  handleWwwDnsMessage,
  runWwwDns,
  WwwDnsCounts,
  WWW_DNS_NAMES,
  ROOT_SOA,
  type WwwDnsZone,
} from '../../../src/lab/www-dns.js';
import { runWww } from '../../../src/lab/www.js';
import { labResolvConf, netnsEtcDir, planLab } from '../../../src/lab/plan.js';
import { parseResolvConf } from '../../../src/kubelet/dns-config.js';

const zone: WwwDnsZone = { address: '172.28.0.200', names: WWW_DNS_NAMES };
const query = (name: string, type: string, extra: Partial<Packet> = {}): Packet => ({
  id: 4242,
  type: 'query',
  flags: packet.RECURSION_DESIRED,
  questions: [{ name, type: type as 'A', class: 'IN' }],
  ...extra,
});
const rcode = (p: Packet) => (p.flags ?? 0) & 0xf;
const AA = 1 << 10;
const RA = 1 << 7;

describe('the outside DNS answers', () => {
  it('A for each external name → www’s address, authoritative, recursion available, RD echoed', () => {
    for (const n of [
      'database.example.com',
      'api.example.com',
      'app.example.com',
      'example.com',
      'www.example.com',
      'google.com',
      'www.google.com',
    ]) {
      const r = wwwDnsAnswer(query(n, 'A'), zone);
      expect(r.rcode).toBe('NOERROR');
      expect(r.reply.id).toBe(4242);
      expect(r.reply.answers).toEqual([{ name: n, type: 'A', class: 'IN', ttl: 60, data: '172.28.0.200' }]);
      expect(r.reply.flags! & (AA | RA | packet.RECURSION_DESIRED)).toBe(AA | RA | packet.RECURSION_DESIRED);
    }
  });

  it('matches without regard to case or a trailing dot and answers the name as asked', () => {
    const r = wwwDnsAnswer(query('API.Example.COM.', 'A'), zone);
    expect(r.rcode).toBe('NOERROR');
    expect(r.reply.answers?.[0].name).toBe('API.Example.COM.');
  });

  it('NODATA for another type of a known name: NOERROR, no answer, the SOA in authority', () => {
    const r = wwwDnsAnswer(query('api.example.com', 'AAAA'), zone);
    expect([r.rcode, r.reply.answers, r.reply.authorities]).toEqual(['NOERROR', [], [ROOT_SOA]]);
  });

  it('NXDOMAIN with the root’s SOA for every other name (a search-path expansion that got out, a typo)', () => {
    for (const n of ['api.example.com.default.svc.cluster.local', 'nope.example.com', 'backend', 'com']) {
      const r = wwwDnsAnswer(query(n, 'A'), zone);
      expect(r.rcode, n).toBe('NXDOMAIN');
      expect(rcode(r.reply)).toBe(3);
      expect(r.reply.answers).toEqual([]);
      expect(r.reply.authorities).toEqual([ROOT_SOA]);
    }
    expect(ROOT_SOA.name).toBe('.');
  });

  it('NOTIMP for another opcode, FORMERR without exactly one question; EDNS0 answered with EDNS0', () => {
    expect(wwwDnsAnswer(query('api.example.com', 'A', { flags: 2 << 11 }), zone).rcode).toBe('NOTIMP');
    expect(wwwDnsAnswer({ id: 1, type: 'query', questions: [] }, zone).rcode).toBe('FORMERR');
    const two = {
      id: 1,
      type: 'query' as const,
      questions: [query('a.com', 'A').questions![0], query('b.com', 'A').questions![0]],
    };
    expect(wwwDnsAnswer(two, zone).rcode).toBe('FORMERR');
    const e = wwwDnsAnswer(
      query('api.example.com', 'A', {
        additionals: [{ name: '.', type: 'OPT', udpPayloadSize: 4096, flags: 0, options: [] } as never],
      }),
      zone,
    );
    expect(e.reply.additionals?.map((a) => a.type)).toEqual(['OPT']);
    expect(wwwDnsAnswer(query('api.example.com', 'A'), zone).reply.additionals).toEqual([]);
  });
});

describe('counting and bad input', () => {
  it('counts by name (lower case, no trailing dot) and type; garbage is counted and never answered', () => {
    const c = new WwwDnsCounts();
    for (const [n, t] of [
      ['api.example.com', 'A'],
      ['API.example.com.', 'A'],
      ['api.example.com', 'AAAA'],
      ['x.cluster.local', 'A'],
    ]) {
      expect(handleWwwDnsMessage(packet.encode(query(n, t)), zone, c)).not.toBeNull();
    }
    const good = packet.encode(query('api.example.com', 'A'));
    const reply = packet.encode({ ...query('api.example.com', 'A'), type: 'response' });
    for (const bad of [
      Buffer.alloc(0),
      Buffer.from([1, 2, 3]),
      good.subarray(0, good.length - 3),
      reply,
      Buffer.alloc(5000),
    ]) {
      expect(handleWwwDnsMessage(bad, zone, c)).toBeNull();
    }
    let seed = 7;
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(12 + (i % 60));
      for (let j = 0; j < b.length; j++) b[j] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      expect(() => handleWwwDnsMessage(b, zone, c)).not.toThrow();
    }
    const j = c.toJSON();
    expect(j.names['api.example.com']).toEqual({ A: 2, AAAA: 1 });
    expect(j.names['x.cluster.local']).toEqual({ A: 1 });
    expect(j.malformed).toBeGreaterThanOrEqual(5);
    c.reset();
    expect(c.toJSON()).toEqual({ total: 0, malformed: 0, names: {} });
  });

  it('the reply line says what was asked and answered', () => {
    const c = new WwwDnsCounts();
    expect(handleWwwDnsMessage(packet.encode(query('api.example.com', 'A')), zone, c)!.line).toBe(
      'A api.example.com → NOERROR 172.28.0.200',
    );
    expect(handleWwwDnsMessage(packet.encode(query('nope.example.com', 'A')), zone, c)!.line).toBe(
      'A nope.example.com → NXDOMAIN',
    );
  });
});

async function udpAsk(port: number, q: Packet): Promise<Packet> {
  const s = dgram.createSocket('udp4');
  try {
    return await new Promise<Packet>((resolve, reject) => {
      s.once('message', (m) => resolve(packet.decode(m)));
      s.once('error', reject);
      s.send(packet.encode(q), port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

async function tcpAsk(port: number, qs: Packet[]): Promise<Packet[]> {
  return new Promise<Packet[]>((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const out: Packet[] = [];
    sock.on('error', reject);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        out.push(packet.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (out.length === qs.length) {
        sock.end();
        resolve(out);
      }
    });
    // two queries in one segment, as a pipelining resolver sends them
    sock.write(Buffer.concat(qs.map((q) => packet.streamEncode(q))));
  });
}

describe('the server on UDP and TCP', () => {
  it('answers on both, counts, and survives garbage', async () => {
    const lines: string[] = [];
    const s = await runWwwDns({ zone, host: '127.0.0.1', port: 0, log: (m) => lines.push(m) });
    try {
      const a = await udpAsk(s.port, query('www.google.com', 'A'));
      expect(a.answers?.[0]).toMatchObject({ type: 'A', data: '172.28.0.200' });
      const g = dgram.createSocket('udp4');
      await new Promise<void>((r) => g.send(Buffer.from('not dns at all'), s.port, '127.0.0.1', () => r()));
      g.close();
      const [t1, t2] = await tcpAsk(s.port, [query('api.example.com', 'A'), query('nope.example.com', 'A')]);
      expect(t1.answers?.[0]).toMatchObject({ name: 'api.example.com', data: '172.28.0.200' });
      expect(rcode(t2)).toBe(3);
      expect(s.counts.toJSON().names).toEqual({
        'api.example.com': { A: 1 },
        'nope.example.com': { A: 1 },
        'www.google.com': { A: 1 },
      });
      expect(s.counts.malformed).toBe(1);
      expect(
        lines.some((l) => /^dns A www\.google\.com → NOERROR 172\.28\.0\.200 \(udp from 127\.0\.0\.1:\d+\)$/.test(l)),
      ).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it('www serves the counts as /dns.json, DELETE starts over', async () => {
    const www = await runWww({ name: 'www', host: '127.0.0.1', httpPort: 0, dnsPort: 0, dnsAddress: '172.28.0.200' });
    const get = (method = 'GET') =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        http
          .request({ host: '127.0.0.1', port: www.ports.http, path: '/dns.json', method }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d)).on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(b) }));
          })
          .on('error', reject)
          .end();
      });
    try {
      await udpAsk(www.ports.dns!, query('app.example.com', 'A'));
      await udpAsk(www.ports.dns!, query('app.example.com', 'AAAA'));
      expect((await get()).body).toEqual({ total: 2, malformed: 0, names: { 'app.example.com': { A: 1, AAAA: 1 } } });
      expect((await get('DELETE')).body.total).toBe(0);
      expect((await get()).body).toEqual({ total: 0, malformed: 0, names: {} });
    } finally {
      await www.stop();
    }
  });
});

describe('the lab’s resolver files', () => {
  it('name only the outside’s DNS server: no search list for the pods to inherit', () => {
    const plan = planLab({ prefix: 'pwlab', nodes: 3 });
    expect(plan.resolvConf).toBe('/run/podwire/pwlab/resolv.conf');
    expect(parseResolvConf(labResolvConf(plan))).toEqual({ servers: ['172.28.0.200'], searches: [], options: [] });
    expect(netnsEtcDir(plan.outside.client.ns)).toBe('/etc/netns/pwlab-client');
  });
});
