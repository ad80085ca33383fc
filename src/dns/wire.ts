import packet, { type Answer, type OptAnswer, type Packet, type Question } from 'dns-packet';

/** dns-packet's per-part codecs (present at runtime, absent from its type definitions) */
interface Codec<T> {
  encode(v: T, buf?: Buffer, offset?: number): Buffer;
  decode(buf: Buffer, offset?: number): T;
  encodingLength(v: T): number;
}
const codecs = packet as unknown as { name: Codec<string>; question: Codec<Question>; answer: Codec<Answer> };

/**
 * The DNS wire format at the server's edge, on top of dns-packet: reading a
 * datagram without ever throwing (what is a query, what earns FORMERR or
 * NOTIMP, what is garbage to drop), header flags and rcodes, EDNS0, and an
 * encoder that compresses owner names (RFC 1035 4.1.4) and truncates to the
 * client's buffer with the TC bit (RFC 2181 9) as miekg/dns does for CoreDNS.
 *
 *                                 1  1  1  1  1  1
 *   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 *  |                      ID                       |
 *  |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
 *  |                    QDCOUNT                    |
 *  |                    ANCOUNT                    |
 *  |                    NSCOUNT                    |
 *  |                    ARCOUNT                    |
 *  +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
 */
export const HEADER_SIZE = 12;
/** RFC 1035: UDP messages without EDNS0 */
export const MIN_UDP_SIZE = 512;
export const MAX_MESSAGE_SIZE = 65535;
/** A query never needs more (a question and an OPT record): anything larger is dropped as garbage. */
export const MAX_QUERY_SIZE = 4096;

const OFF_FLAGS = 2;
const OFF_QDCOUNT = 4;
const OFF_ANCOUNT = 6;
const OFF_NSCOUNT = 8;
const OFF_ARCOUNT = 10;

export const FLAG_QR = 1 << 15;
export const FLAG_AA = 1 << 10;
export const FLAG_TC = 1 << 9;
export const FLAG_RD = 1 << 8;
export const FLAG_RA = 1 << 7;
export const FLAG_Z = 1 << 6;
export const FLAG_AD = 1 << 5;
export const FLAG_CD = 1 << 4;
const OPCODE_SHIFT = 11;
const RCODE_MASK = 0xf;
export const EDNS_DO = 1 << 15;

export const RCODES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
] as const;
export const BADVERS = 16;

export function rcodeName(n: number): string {
  return n === BADVERS ? 'BADVERS' : (RCODES[n] ?? String(n));
}
export function rcodeNumber(name: string): number {
  if (name === 'BADVERS') return BADVERS;
  const i = (RCODES as readonly string[]).indexOf(name.toUpperCase());
  return i >= 0 ? i : Number.isInteger(Number(name)) ? Number(name) : 2;
}

/** The header bits of a decoded or built message (dns-packet keeps opcode and rcode inside `flags`). */
export const flagsOf = (m: Packet): number => (m.flags ?? 0) | (m.type === 'response' ? FLAG_QR : 0);
export const rcodeOf = (m: Packet): number => (m.flags ?? 0) & RCODE_MASK;
export const hasFlag = (m: Packet, f: number): boolean => (flagsOf(m) & f) !== 0;
export function setRcode(m: Packet, rcode: number): Packet {
  return { ...m, flags: ((m.flags ?? 0) & ~RCODE_MASK) | (rcode & RCODE_MASK) };
}
export function setFlag(m: Packet, f: number, on: boolean): Packet {
  return { ...m, flags: on ? (m.flags ?? 0) | f : (m.flags ?? 0) & ~f };
}

/** "qr,aa,rd" as CoreDNS's log prints the reply's flags. */
export function flagsText(m: Packet): string {
  const f = flagsOf(m);
  const names: [number, string][] = [
    [FLAG_QR, 'qr'],
    [FLAG_AA, 'aa'],
    [FLAG_TC, 'tc'],
    [FLAG_RD, 'rd'],
    [FLAG_RA, 'ra'],
    [FLAG_Z, 'z'],
    [FLAG_AD, 'ad'],
    [FLAG_CD, 'cd'],
  ];
  return names
    .filter(([b]) => f & b)
    .map(([, n]) => n)
    .join(',');
}

export function optOf(m: Packet): OptAnswer | null {
  for (const a of m.additionals ?? []) if (a.type === 'OPT') return a as OptAnswer;
  return null;
}

/**
 * The reply skeleton for a query (dns.Msg.SetReply): same id, opcode, RD and
 * CD bits, the question as asked, QR set.
 */
export function replyTo(q: Packet, rcode = 0): Packet {
  const keep = (q.flags ?? 0) & ((0xf << OPCODE_SHIFT) | FLAG_RD | FLAG_CD);
  return {
    id: q.id,
    type: 'response',
    flags: keep | (rcode & RCODE_MASK),
    questions: (q.questions ?? []).slice(0, 1),
    answers: [],
    authorities: [],
    additionals: [],
  };
}

export type QueryRead =
  /** a well-formed query */
  | { kind: 'query'; msg: Packet }
  /** answer with only a header (and the question, when it could be read) carrying this rcode */
  | { kind: 'error'; rcode: number; id: number; flags: number; question: Question | null; why: string }
  /** garbage: counted and dropped without a word */
  | { kind: 'drop'; reason: DropReason };

export type DropReason = 'short' | 'oversize' | 'response' | 'implausible-header' | 'bad-question';

/**
 * Classify one received message. Garbage (too short, too long, a response,
 * a header whose counts no query has, a question that cannot be read:
 * truncated, a bad or looping compression pointer) is dropped: answering it
 * would make us a reflector. A header that looks like a query earns FORMERR
 * for a malformed body (miekg/dns's accept rules: QDCOUNT 1, at most one
 * answer and authority, two additional), NOTIMP for an opcode other than
 * QUERY. Never throws.
 */
export function readQuery(buf: Buffer): QueryRead {
  if (buf.length < HEADER_SIZE) return { kind: 'drop', reason: 'short' };
  if (buf.length > MAX_QUERY_SIZE) return { kind: 'drop', reason: 'oversize' };
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(OFF_FLAGS);
  if (flags & FLAG_QR) return { kind: 'drop', reason: 'response' };
  const qd = buf.readUInt16BE(OFF_QDCOUNT);
  const an = buf.readUInt16BE(OFF_ANCOUNT);
  const ns = buf.readUInt16BE(OFF_NSCOUNT);
  const ar = buf.readUInt16BE(OFF_ARCOUNT);
  if (qd > 1 || an > 1 || ns > 1 || ar > 2) {
    // random bytes land here (and count as garbage); a crafted header with small counts gets FORMERR
    if (qd <= 4 && an <= 1 && ns <= 1 && ar <= 2)
      return { kind: 'error', rcode: 1, id, flags, question: null, why: `QDCOUNT ${qd}` };
    return { kind: 'drop', reason: 'implausible-header' };
  }
  if (qd === 0) return { kind: 'error', rcode: 1, id, flags, question: null, why: 'no question' };
  let question: Question;
  try {
    question = codecs.question.decode(buf, HEADER_SIZE) as Question;
  } catch {
    return { kind: 'drop', reason: 'bad-question' };
  }
  const opcode = (flags >> OPCODE_SHIFT) & 0xf;
  if (opcode !== 0) return { kind: 'error', rcode: 4, id, flags, question, why: `opcode ${opcode}` };
  let msg: Packet;
  try {
    msg = packet.decode(buf);
  } catch (e) {
    return { kind: 'error', rcode: 1, id, flags, question, why: (e as Error).message };
  }
  const opts = (msg.additionals ?? []).filter((a) => a.type === 'OPT');
  if (opts.length > 1) return { kind: 'error', rcode: 1, id, flags, question, why: 'more than one OPT record' };
  if (opts.length === 1 && opts[0].name !== '.')
    return { kind: 'error', rcode: 1, id, flags, question, why: 'OPT record not owned by the root' };
  return { kind: 'query', msg };
}

/** The reply for a QueryRead error: header (+ question), rcode, opcode kept for NOTIMP. */
export function errorReply(e: Extract<QueryRead, { kind: 'error' }>): Packet {
  const keep = e.flags & ((0xf << OPCODE_SHIFT) | FLAG_RD | FLAG_CD);
  return {
    id: e.id,
    type: 'response',
    flags: keep | e.rcode,
    questions: e.question ? [e.question] : [],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

// ---- encoding with name compression and truncation ----

const encodeName = codecs.name;

class Writer {
  buf: Buffer;
  off = 0;
  /** exact-case name suffix → offset, so a pointer never changes a name's case */
  private readonly names = new Map<string, number>();
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }
  private ensure(n: number): void {
    if (this.off + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.off + n));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }
  /** Write a name, pointing at an earlier copy of its longest known suffix. */
  name(n: string): void {
    const labels = trimDots(n)
      .split('.')
      .filter((l) => l.length > 0);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.');
      const at = this.names.get(suffix);
      if (at !== undefined) {
        this.ensure(2);
        this.buf.writeUInt16BE(0xc000 | at, this.off);
        this.off += 2;
        return;
      }
      if (this.off < 0x3fff) this.names.set(suffix, this.off);
      const label = Buffer.from(labels[i], 'utf8');
      this.ensure(1 + label.length);
      this.buf[this.off++] = label.length;
      label.copy(this.buf, this.off);
      this.off += label.length;
    }
    this.ensure(1);
    this.buf[this.off++] = 0;
  }
  bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.off);
    this.off += b.length;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.off);
    this.off += 2;
  }
}

const trimDots = (n: string): string => n.replace(/^\.+|\.+$/g, '');

/** A record: its owner name compressed, the rest as dns-packet encodes it. */
function writeRecord(w: Writer, rr: Answer): void {
  const plain = Buffer.alloc(codecs.answer.encodingLength(rr));
  codecs.answer.encode(rr, plain, 0);
  w.name(rr.name);
  w.bytes(plain.subarray(encodeName.encodingLength(rr.name)));
}

function writeQuestion(w: Writer, q: Question): void {
  const plain = Buffer.alloc(codecs.question.encodingLength(q));
  codecs.question.encode(q, plain, 0);
  w.name(q.name);
  w.bytes(plain.subarray(encodeName.encodingLength(q.name)));
}

export interface Encoded {
  buf: Buffer;
  /** records were left out to fit: the TC bit is set */
  truncated: boolean;
}

/**
 * Encode a message that must fit `maxSize` bytes (the client's buffer).
 * As miekg/dns's Msg.Truncate: the question and the OPT record always stay;
 * answers are kept in order while they fit, and if one does not, the TC bit
 * is set and the other sections are left out; authority and additional
 * records that do not fit are left out without TC.
 */
export function encodeMessage(m: Packet, maxSize = MAX_MESSAGE_SIZE): Encoded {
  const w = new Writer(Math.min(maxSize, 512));
  const questions = m.questions ?? [];
  const opt = (m.additionals ?? []).filter((a) => a.type === 'OPT');
  const extra = (m.additionals ?? []).filter((a) => a.type !== 'OPT');
  const optLen = opt.reduce((n, o) => n + codecs.answer.encodingLength(o), 0);
  w.off = HEADER_SIZE;
  for (const q of questions) writeQuestion(w, q);
  const budget = maxSize - optLen;
  let truncated = false;
  const counts = [0, 0, 0];
  const sections: Answer[][] = [m.answers ?? [], m.authorities ?? [], extra];
  outer: for (let s = 0; s < sections.length; s++) {
    for (const rr of sections[s]) {
      const mark = w.off;
      writeRecord(w, rr);
      if (w.off > budget) {
        w.off = mark;
        if (s === 0) truncated = true;
        break outer;
      }
      counts[s]++;
    }
  }
  for (const o of opt) {
    const b = Buffer.alloc(codecs.answer.encodingLength(o));
    codecs.answer.encode(o, b, 0);
    w.bytes(b);
  }
  let flags = flagsOf(m);
  if (truncated) flags |= FLAG_TC;
  w.buf.writeUInt16BE(m.id ?? 0, 0);
  w.buf.writeUInt16BE(flags & 0xffff, OFF_FLAGS);
  w.buf.writeUInt16BE(questions.length, OFF_QDCOUNT);
  w.buf.writeUInt16BE(counts[0], OFF_ANCOUNT);
  w.buf.writeUInt16BE(counts[1], OFF_NSCOUNT);
  w.buf.writeUInt16BE(counts[2] + opt.length, OFF_ARCOUNT);
  return { buf: w.buf.subarray(0, w.off), truncated };
}

/** The client's usable UDP buffer (CoreDNS's edns.Size): 512 at least, 64 KiB over TCP. */
export function bufferSize(proto: 'udp' | 'tcp', opt: OptAnswer | null): number {
  if (proto === 'tcp') return MAX_MESSAGE_SIZE;
  return Math.max(MIN_UDP_SIZE, opt?.udpPayloadSize ?? 0);
}

/**
 * RFC 6891: a reply carries an OPT record only if the query did, with
 * version 0, the client's buffer size and its DO bit (CoreDNS's SizeAndDo);
 * an upstream's options are kept, its flags cleared.
 */
export function withEdns(reply: Packet, queryOpt: OptAnswer | null): Packet {
  const others = (reply.additionals ?? []).filter((a) => a.type !== 'OPT');
  if (!queryOpt) return { ...reply, additionals: others };
  const theirs = optOf(reply);
  const opt: OptAnswer = {
    name: '.',
    type: 'OPT',
    udpPayloadSize: Math.max(MIN_UDP_SIZE, queryOpt.udpPayloadSize),
    extendedRcode: theirs?.extendedRcode ?? 0,
    ednsVersion: 0,
    flags: queryOpt.flags & EDNS_DO,
    flag_do: (queryOpt.flags & EDNS_DO) !== 0,
    options: theirs?.options ?? [],
  };
  return { ...reply, additionals: [...others, opt] };
}

/** Lower-case FQDN with the trailing dot: how names are compared and keyed (CoreDNS's state.Name()). */
export function canonicalName(n: string): string {
  const t = trimDots(n).toLowerCase();
  return t ? `${t}.` : '.';
}

/** Is `name` at or below `zone` (both any case, with or without the trailing dot)? */
export function inZone(name: string, zone: string): boolean {
  const n = canonicalName(name);
  const z = canonicalName(zone);
  return z === '.' || n === z || n.endsWith(`.${z}`);
}

/** A name a query may carry: labels 1–63 bytes, 255 bytes in all. */
export function validName(n: string): boolean {
  const t = trimDots(n);
  if (!t) return n === '.' || n === '';
  if (Buffer.byteLength(t) + 2 > 255) return false;
  return t.split('.').every((l) => l.length > 0 && Buffer.byteLength(l) <= 63);
}
