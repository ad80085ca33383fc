import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import packet, { type DecodedPacket } from 'dns-packet';
import type { Outcome, Try } from './search.js';

/**
 * The wire side of a stub resolver, as the C library sends a query: a UDP
 * datagram from a connected socket (so an ICMP port unreachable comes back
 * as ECONNREFUSED), recursion desired, a random id; a truncated answer is
 * asked again over TCP. Servers are tried in order, each attempt over all
 * of them; SERVFAIL, NOTIMP and REFUSED answers, silence and refusal move
 * on to the next server, as glibc's send_dg does.
 */
export interface StubOptions {
  servers: string[];
  timeoutMs: number;
  attempts: number;
  port?: number;
  /** each try as it finishes (for streaming to the trace) */
  onTry?: (name: string, t: Try) => void;
}

const ms = (t0: number) => Math.round((performance.now() - t0) * 100) / 100;

function outcomeOf(p: DecodedPacket, tcp: boolean): Outcome {
  const addresses: string[] = [];
  const cnames: string[] = [];
  let ttl: number | undefined;
  for (const a of p.answers ?? []) {
    if (a.type === 'A') {
      addresses.push(String(a.data));
      ttl = ttl === undefined ? a.ttl : Math.min(ttl, a.ttl ?? 0);
    } else if (a.type === 'CNAME') cnames.push(String(a.data));
  }
  const rcode = (p as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR';
  return {
    kind: 'answer',
    rcode,
    addresses,
    ...(cnames.length ? { cnames } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(p.flag_tc ? { truncated: true } : {}),
    ...(tcp ? { tcp: true } : {}),
  };
}

/** Does `p` answer the question we asked (id, name, type)? */
function answers(p: DecodedPacket, id: number, name: string): boolean {
  const q = p.questions?.[0];
  return (
    p.type === 'response' &&
    p.id === id &&
    !!q &&
    q.type === 'A' &&
    q.name.toLowerCase() === name.replace(/\.$/, '').toLowerCase()
  );
}

export function encodeQuery(id: number, name: string): Buffer {
  return packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: 'A', class: 'IN', name: name.replace(/\.$/, '') }],
  });
}

function decodeOrNull(buf: Buffer): DecodedPacket | null {
  try {
    return packet.decode(buf);
  } catch {
    return null;
  }
}

export function udpQuery(server: string, port: number, name: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const id = randomInt(0, 0x10000);
    const sock = dgram.createSocket('udp4');
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish(e.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'error', message: e.code ?? e.message }),
    );
    sock.on('message', (msg) => {
      const p = decodeOrNull(msg);
      if (p && answers(p, id, name)) finish(outcomeOf(p, false)); // anything else is not ours: keep waiting, as the library does
    });
    sock.connect(port, server, () => sock.send(encodeQuery(id, name)));
  });
}

export function tcpQuery(server: string, port: number, name: string, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const id = randomInt(0, 0x10000);
    const q = encodeQuery(id, name);
    const sock = net.connect({ host: server, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      sock.write(Buffer.concat([len, q]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const p = decodeOrNull(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      finish(
        p && answers(p, id, name)
          ? outcomeOf(p, true)
          : { kind: 'error', message: 'a TCP answer that does not answer the question' },
      );
    });
    sock.on('error', (e: NodeJS.ErrnoException) =>
      finish(e.code === 'ECONNREFUSED' ? { kind: 'refused' } : { kind: 'error', message: e.code ?? e.message }),
    );
    sock.on('end', () => finish({ kind: 'error', message: 'the server closed the TCP connection without an answer' }));
  });
}

const NEXT_SERVER_RCODES = new Set(['SERVFAIL', 'NOTIMP', 'REFUSED']);

/** One name, as the library asks it: every server of every attempt until one answers usefully. */
export async function askServers(name: string, o: StubOptions): Promise<Try[]> {
  const tries: Try[] = [];
  const port = o.port ?? 53;
  const refused = new Set<string>();
  for (let attempt = 0; attempt < o.attempts; attempt++) {
    for (const server of o.servers) {
      if (refused.has(server)) continue;
      const t0 = performance.now();
      let outcome = await udpQuery(server, port, name, o.timeoutMs);
      if (outcome.kind === 'answer' && outcome.truncated) outcome = await tcpQuery(server, port, name, o.timeoutMs);
      const t: Try = { server, outcome, latencyMs: ms(t0) };
      tries.push(t);
      o.onTry?.(name, t);
      if (outcome.kind === 'refused') refused.add(server);
      if (outcome.kind === 'answer' && !NEXT_SERVER_RCODES.has(outcome.rcode)) return tries;
    }
    if (refused.size === o.servers.length) break;
  }
  return tries;
}
