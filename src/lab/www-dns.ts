import dgram from 'node:dgram';
import net from 'node:net';
import packet, { type Answer, type Packet, type Question } from 'dns-packet';
import { LabError } from './errors.js';

/**
 * The outside's DNS: the server the lab's resolver file names (`nameserver
 * 172.28.0.200`), so it is where CoreDNS's `forward . /etc/resolv.conf`
 * sends every name that is not the cluster's, and what the lab's client
 * machine asks. It plays "the internet" and its resolver at once: a few
 * external names answer with www's address, every other name is NXDOMAIN
 * with the root's SOA (as the real root answers for a name that does not
 * exist). Nothing is ever asked of a real server.
 *
 * It counts what it is asked, by name and type (`GET /dns.json` on www's
 * HTTP port; `DELETE /dns.json` starts over), and logs one line a query:
 * which names of a pod's search path left the cluster, and from which node
 * (a pod's query leaves masqueraded to its node's address).
 */
export const WWW_DNS_NAMES = [
  'example.com',
  'www.example.com',
  'api.example.com',
  'app.example.com',
  'database.example.com',
  'google.com',
  'www.google.com',
] as const;

/** TTL of the answers (s), and of the SOA's negative caching (its MINIMUM, RFC 2308): short, for a lab */
export const WWW_DNS_TTL = 60;

/** The root's SOA, as a.root-servers.net serves it, with the lab's short negative TTL. */
export const ROOT_SOA: Answer = {
  name: '.',
  type: 'SOA',
  class: 'IN',
  ttl: WWW_DNS_TTL,
  data: {
    mname: 'a.root-servers.net',
    rname: 'nstld.verisign-grs.com',
    serial: 2024010100,
    refresh: 1800,
    retry: 900,
    expire: 604800,
    minimum: WWW_DNS_TTL,
  },
};

const FLAG_AA = 1 << 10;
const FLAG_RD = 1 << 8;
const FLAG_RA = 1 << 7;
const RCODE = { NOERROR: 0, FORMERR: 1, NXDOMAIN: 3, NOTIMP: 4 } as const;
type Rcode = keyof typeof RCODE;
/** a query is a question and maybe an OPT record: anything bigger is not one */
const MAX_QUERY_SIZE = 4096;
/** EDNS0 UDP payload size advertised (the DNS flag day 2020 value) */
const EDNS_UDP_SIZE = 1232;

export interface WwwDnsZone {
  /** the address every known name has (www's own) */
  address: string;
  names: readonly string[];
}

/** Lower case, no trailing dot: how names are compared and counted. */
export const canonicalName = (name: string) => name.toLowerCase().replace(/\.$/, '');

export interface WwwDnsReply {
  reply: Packet;
  rcode: Rcode;
  /** the question, as asked (null: none could be read) */
  question: Question | null;
}

/**
 * The answer to one decoded query (pure). Authoritative (AA) and, since it
 * stands in for the resolver too, recursion available (RA): A for a known
 * name; NODATA (NOERROR, the SOA in authority) for another type of a known
 * name; NXDOMAIN with the SOA for any other name. Names are matched without
 * regard to case and answered as asked (RFC 4343).
 */
export function wwwDnsAnswer(query: Packet, zone: WwwDnsZone): WwwDnsReply {
  const questions = query.questions ?? [];
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  const edns = (query.additionals ?? []).some((a) => a.type === 'OPT');
  const base = (rcode: Rcode, q: Question | null, answers: Answer[] = [], authorities: Answer[] = []): WwwDnsReply => ({
    rcode,
    question: q,
    reply: {
      id: query.id ?? 0,
      type: 'response',
      flags:
        ((query.flags ?? 0) & FLAG_RD) |
        FLAG_RA |
        (rcode === 'NOERROR' || rcode === 'NXDOMAIN' ? FLAG_AA : 0) |
        RCODE[rcode],
      questions: q ? [q] : [],
      answers,
      authorities,
      additionals: edns
        ? [{ name: '.', type: 'OPT', udpPayloadSize: EDNS_UDP_SIZE, flags: 0, options: [] } as unknown as Answer]
        : [],
    },
  });
  if (opcode !== 0) return base('NOTIMP', questions[0] ?? null);
  if (questions.length !== 1) return base('FORMERR', null);
  const q = questions[0];
  const known = zone.names.map(canonicalName).includes(canonicalName(q.name));
  if (!known) return base('NXDOMAIN', q, [], [ROOT_SOA]);
  if (q.type === 'A' || (q.type as string) === 'ANY')
    return base('NOERROR', q, [{ name: q.name, type: 'A', class: 'IN', ttl: WWW_DNS_TTL, data: zone.address }]);
  return base('NOERROR', q, [], [ROOT_SOA]);
}

/** Queries by name and type, and the malformed ones (dropped unanswered). */
export class WwwDnsCounts {
  private byName = new Map<string, Map<string, number>>();
  total = 0;
  malformed = 0;

  record(name: string, type: string): void {
    this.total++;
    const n = canonicalName(name) || '.';
    let types = this.byName.get(n);
    if (!types) this.byName.set(n, (types = new Map()));
    types.set(type, (types.get(type) ?? 0) + 1);
  }

  reset(): void {
    this.byName.clear();
    this.total = 0;
    this.malformed = 0;
  }

  /** `{ total, malformed, names: { "api.example.com": { "A": 1 } } }`, names sorted */
  toJSON(): { total: number; malformed: number; names: Record<string, Record<string, number>> } {
    const names: Record<string, Record<string, number>> = {};
    for (const n of [...this.byName.keys()].sort())
      names[n] = Object.fromEntries([...this.byName.get(n)!].sort(([a], [b]) => a.localeCompare(b)));
    return { total: this.total, malformed: this.malformed, names };
  }
}

/** Decode, answer, count, encode: null for what is not a query (never throws). */
export function handleWwwDnsMessage(
  msg: Buffer,
  zone: WwwDnsZone,
  counts: WwwDnsCounts,
): { out: Buffer; line: string } | null {
  let query: Packet;
  try {
    if (msg.length < 12 || msg.length > MAX_QUERY_SIZE || msg[2] & 0x80)
      throw new LabError('ERR_BAD_QUERY', 'not a query');
    query = packet.decode(msg);
  } catch {
    counts.malformed++;
    return null;
  }
  const r = wwwDnsAnswer(query, zone);
  if (r.question) counts.record(r.question.name, r.question.type);
  let out: Buffer;
  try {
    out = packet.encode(r.reply);
  } catch {
    counts.malformed++;
    return null;
  }
  const a = r.reply.answers?.[0] as { data?: unknown } | undefined;
  const what = r.question ? `${r.question.type} ${r.question.name}` : '(no question)';
  return { out, line: `${what} → ${r.rcode}${a?.data ? ` ${String(a.data)}` : ''}` };
}

export interface WwwDnsOptions {
  zone: WwwDnsZone;
  host?: string;
  /** 0 picks a free port (the same one for UDP and TCP) */
  port: number;
  counts?: WwwDnsCounts;
  log?: (msg: string) => void;
}

export interface WwwDnsServer {
  readonly port: number;
  readonly counts: WwwDnsCounts;
  stop(): Promise<void>;
}

/** UDP and TCP (RFC 7766: 2-byte length prefix, several queries per connection). */
export async function runWwwDns(opts: WwwDnsOptions): Promise<WwwDnsServer> {
  const log = opts.log ?? (() => {});
  const host = opts.host ?? '0.0.0.0';
  const counts = opts.counts ?? new WwwDnsCounts();

  const conns = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => sock.destroy());
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const r = handleWwwDnsMessage(buf.subarray(2, 2 + len), opts.zone, counts);
        buf = buf.subarray(2 + len);
        if (!r) return void sock.destroy();
        log(`dns ${r.line} (tcp from ${sock.remoteAddress}:${sock.remotePort})`);
        const frame = Buffer.alloc(2 + r.out.length);
        frame.writeUInt16BE(r.out.length, 0);
        r.out.copy(frame, 2);
        sock.write(frame);
      }
      if (buf.length > 2 + MAX_QUERY_SIZE) sock.destroy();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port, host, () => {
      tcp.off('error', reject);
      resolve((tcp.address() as net.AddressInfo).port);
    });
  });

  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => {
    const r = handleWwwDnsMessage(msg, opts.zone, counts);
    if (!r) return;
    log(`dns ${r.line} (udp from ${rinfo.address}:${rinfo.port})`);
    udp.send(r.out, rinfo.port, rinfo.address);
  });
  udp.on('error', (e) => log(`dns udp: ${e.message}`));
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await new Promise<void>((r) => tcp.close(() => r()));
    throw e;
  }
  return {
    port,
    counts,
    async stop() {
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}
