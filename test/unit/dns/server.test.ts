import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import packet, { type Answer, type Packet } from 'dns-packet';
import { DnsServer, type Remote } from '../../../src/dns/server.js';
import { wrote, type Handler } from '../../../src/dns/chain.js';
import { DnsMetrics } from '../../../src/dns/metrics.js';
import { lineLogger } from '../../../src/dns/plugins/log-sink.js';
import { encodeMessage, readQuery, replyTo, FLAG_AA, MAX_QUERY_SIZE } from '../../../src/dns/wire.js';

const remote: Remote = { address: '10.244.1.2', port: 45678, family: 4 };

function server(handler: Handler, opts: { zones?: string[]; lines?: string[] } = {}) {
  const lines = opts.lines ?? [];
  const s = new DnsServer({ port: 53, metrics: new DnsMetrics(), log: lineLogger((l) => lines.push(l)) });
  s.setBlocks([{ zones: opts.zones ?? ['.'], handler }]);
  return { s, lines };
}

const query = (name: string, type: string, extra: Partial<Packet> = {}): Buffer =>
  packet.encode({
    id: 4321,
    type: 'query',
    flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
    ...extra,
  });
const edns = (size: number, flags = 0): Answer =>
  ({
    name: '.',
    type: 'OPT',
    udpPayloadSize: size,
    extendedRcode: 0,
    ednsVersion: 0,
    flags,
    flag_do: false,
    options: [],
  }) as Answer;

/** A zone that answers `n` A records for any name (10.0.x.y). */
const manyA =
  (n: number): Handler =>
  async (q) => {
    const m = replyTo(q.msg);
    m.flags = (m.flags ?? 0) | FLAG_AA;
    const name = q.msg.questions![0].name;
    m.answers = Array.from(
      { length: n },
      (_, i) => ({ name, type: 'A', class: 'IN', ttl: 30, data: `10.0.${i >> 8}.${i & 255}` }) as Answer,
    );
    return wrote('test', m);
  };

/** dns-packet decodes `rcode` too; its type definitions leave it out */
const decode = (b: Buffer | null) => packet.decode(b!) as ReturnType<typeof packet.decode> & { rcode: string };

describe('DnsServer.handle', () => {
  it('answers through the chain, keeps the id and the name as asked', async () => {
    const { s } = server(manyA(1));
    const r = decode(await s.handle(query('BackEnd.Default.svc.cluster.local', 'A'), remote, 'udp'));
    expect(r.id).toBe(4321);
    expect(r.flag_qr && r.flag_aa && r.flag_rd).toBe(true);
    expect(r.questions![0].name).toBe('BackEnd.Default.svc.cluster.local');
    expect(r.answers![0].name).toBe('BackEnd.Default.svc.cluster.local');
    expect(r.additionals).toEqual([]);
  });

  it('EDNS0: echoes an OPT record with the client’s buffer size and DO bit', async () => {
    const { s } = server(manyA(1));
    const r = decode(await s.handle(query('a.example', 'A', { additionals: [edns(1232, 0x8000)] }), remote, 'udp'));
    const opt = r.additionals!.find((a) => a.type === 'OPT') as {
      udpPayloadSize: number;
      flag_do: boolean;
      ednsVersion: number;
    };
    expect(opt).toMatchObject({ udpPayloadSize: 1232, flag_do: true, ednsVersion: 0 });
  });

  it('truncates with TC at 512 bytes without EDNS0, at the advertised size with it, never over TCP', async () => {
    const { s } = server(manyA(100));
    const plain = (await s.handle(query('big.default.svc.cluster.local', 'A'), remote, 'udp'))!;
    expect(plain.length).toBeLessThanOrEqual(512);
    const p = packet.decode(plain);
    expect(p.flag_tc).toBe(true);
    expect(p.answers!.length).toBeGreaterThan(10);
    expect(p.answers!.length).toBeLessThan(100);

    const big = (await s.handle(
      query('big.default.svc.cluster.local', 'A', { additionals: [edns(1232)] }),
      remote,
      'udp',
    ))!;
    expect(big.length).toBeLessThanOrEqual(1232);
    expect(big.length).toBeGreaterThan(1000);
    expect(packet.decode(big).flag_tc).toBe(true);
    expect(packet.decode(big).additionals!.some((a) => a.type === 'OPT')).toBe(true);

    const tcp = packet.decode((await s.handle(query('big.default.svc.cluster.local', 'A'), remote, 'tcp'))!);
    expect(tcp.flag_tc).toBe(false);
    expect(tcp.answers!.length).toBe(100);
  });

  it('compresses owner names: 100 A records of one name fit in 100 × 16 bytes and a header', async () => {
    const { s } = server(manyA(100));
    const tcp = (await s.handle(query('big.default.svc.cluster.local', 'A'), remote, 'tcp'))!;
    expect(tcp.length).toBe(12 + 35 + 100 * 16);
  });

  it('FORMERR for a query-shaped header with a bad body; NOTIMP for another opcode; REFUSED for another class or no zone', async () => {
    const { s } = server(manyA(1), { zones: ['cluster.local.'] });
    const ok = query('a.cluster.local', 'A');
    const noQuestion = Buffer.from(ok.subarray(0, 12));
    noQuestion.writeUInt16BE(0, 4);
    expect(decode(await s.handle(noQuestion, remote, 'udp')).rcode).toBe('FORMERR');

    const badAdditional = Buffer.concat([ok, Buffer.from([0, 0, 41])]);
    badAdditional.writeUInt16BE(1, 10);
    const f = decode(await s.handle(badAdditional, remote, 'udp'));
    expect(f.rcode).toBe('FORMERR');
    expect(f.id).toBe(4321);
    expect(f.questions![0].name).toBe('a.cluster.local');

    const update = Buffer.from(ok);
    update.writeUInt16BE(update.readUInt16BE(2) | (5 << 11), 2);
    expect(decode(await s.handle(update, remote, 'udp')).rcode).toBe('NOTIMP');

    const chaos = packet.encode({
      id: 1,
      type: 'query',
      questions: [{ name: 'version.bind', type: 'TXT', class: 'CH' }],
    });
    expect(decode(await s.handle(chaos, remote, 'udp')).rcode).toBe('REFUSED');
    expect(decode(await s.handle(query('example.org', 'A'), remote, 'udp')).rcode).toBe('REFUSED');
  });

  it('BADVERS for EDNS version 1', async () => {
    const { s } = server(manyA(1));
    const q = query('a.example', 'A', { additionals: [{ ...edns(1232), ednsVersion: 1 } as Answer] });
    const r = decode(await s.handle(q, remote, 'udp'));
    expect((r.additionals![0] as { extendedRcode: number }).extendedRcode).toBe(1);
  });

  it('drops garbage without answering and counts it by reason', async () => {
    const { s } = server(manyA(1));
    expect(await s.handle(Buffer.from([1, 2, 3]), remote, 'udp')).toBeNull();
    const response = Buffer.from(query('a.example', 'A'));
    response[2] |= 0x80;
    expect(await s.handle(response, remote, 'udp')).toBeNull();
    expect(await s.handle(Buffer.alloc(MAX_QUERY_SIZE + 1), remote, 'udp')).toBeNull();
    // a compression pointer to itself in the question
    const loop = Buffer.concat([query('a.example', 'A').subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(await s.handle(loop, remote, 'udp')).toBeNull();
    // truncated in the middle of the question
    expect(await s.handle(query('abcdef.example', 'A').subarray(0, 18), remote, 'udp')).toBeNull();
    expect(Object.fromEntries(s.drops)).toEqual({ short: 1, response: 1, oversize: 1, 'bad-question': 2 });
  });

  it('a plugin that throws gets the client SERVFAIL and the log a line', async () => {
    const { s, lines } = server(async () => {
      throw new Error('boom');
    });
    expect(decode(await s.handle(query('a.example', 'A'), remote, 'udp')).rcode).toBe('SERVFAIL');
    expect(lines).toEqual(['[ERROR] Recovered from panic in server: "dns://:53" boom']);
  });

  it('never throws or answers a non-query on random bytes (fast-check)', async () => {
    const { s } = server(manyA(3));
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 600 }), async (bytes) => {
        const out = await s.handle(Buffer.from(bytes), remote, 'udp');
        if (out) expect(out.readUInt16BE(2) & 0x8000).toBe(0x8000);
        expect(s.pending).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated real queries: a reply is a reply, and it fits 512 bytes (fast-check)', async () => {
    const { s } = server(manyA(40));
    const base = query('svc.default.svc.cluster.local', 'A', { additionals: [edns(4096)] });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(base.length),
        async (edits, cut) => {
          const b = Buffer.from(base);
          for (const [i, v] of edits) b[i] = v;
          const out = await s.handle(b.subarray(0, cut), remote, 'udp');
          if (out) expect(out.length).toBeLessThanOrEqual(4096);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('bounds the queries waiting in chains: past maxInFlight they are dropped as overload', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = new DnsServer({ port: 53, log: lineLogger(() => {}), maxInFlight: 10 });
    s.setBlocks([{ zones: ['.'], handler: async (q) => (await gate, wrote('t', replyTo(q.msg))) }]);
    const all = Array.from({ length: 50 }, () => s.handle(query('a.example', 'A'), remote, 'udp'));
    expect(s.pending).toBe(10);
    release();
    const outs = await Promise.all(all);
    expect(outs.filter(Boolean).length).toBe(10);
    expect(s.drops.get('overload')).toBe(40);
  });
});

describe('wire.readQuery', () => {
  it('reads a query, and sorts what is not one', () => {
    expect(readQuery(query('a.b', 'A')).kind).toBe('query');
    expect(readQuery(Buffer.alloc(5))).toEqual({ kind: 'drop', reason: 'short' });
    const q = Buffer.from(query('a.b', 'A'));
    q.writeUInt16BE(2, 4);
    expect(readQuery(q)).toMatchObject({ kind: 'error', rcode: 1 });
    q.writeUInt16BE(0xffff, 4);
    expect(readQuery(q)).toEqual({ kind: 'drop', reason: 'implausible-header' });
  });

  it('encodeMessage round-trips through dns-packet', () => {
    const m: Packet = {
      id: 7,
      type: 'response',
      flags: FLAG_AA,
      questions: [{ name: 'x.y', type: 'SRV', class: 'IN' }],
      answers: [{ name: 'x.y', type: 'SRV', ttl: 5, data: { priority: 0, weight: 100, port: 80, target: 'a.x.y' } }],
      authorities: [],
      additionals: [{ name: 'a.x.y', type: 'A', ttl: 5, data: '10.0.0.1' }],
    };
    const back = packet.decode(encodeMessage(m).buf);
    expect(back.answers).toEqual([
      {
        name: 'x.y',
        type: 'SRV',
        class: 'IN',
        flush: false,
        ttl: 5,
        data: { priority: 0, weight: 100, port: 80, target: 'a.x.y' },
      },
    ]);
    expect(back.additionals![0]).toMatchObject({ name: 'a.x.y', data: '10.0.0.1' });
  });
});
