import packet, { type DecodedPacket } from 'dns-packet';

/**
 * DNS as `observe` shows it: each query and response forwarded to or from
 * port 53 (UDP, or TCP when the whole message is in one segment) decoded
 * — name, type, rcode, answers —, responses matched to their queries (id,
 * client address and port, protocol, name: the server's address is left
 * out, since a query to a ClusterIP comes back from it after the client's
 * node translated it) for the latency, and the name read against the
 * client pod's search list: `api.example.com.default.svc.cluster.local`
 * is `api.example.com` through search domain 1 of 3.
 *
 * Runs only while someone observes (the flow log exists only then), on
 * frames that the flow log already has in hand; bytes that are not DNS
 * are skipped, never thrown on.
 */
export interface DnsInfo {
  id: number;
  name: string;
  type: string;
  /** responses */
  rcode?: string;
  /** responses: "A 10.96.1.2", "CNAME www.example.com", … */
  answers?: string[];
  /** responses matched to their query: query → response as this node forwarded them */
  latencyMs?: number;
  /** what the name looks like against the client's search list: `search 1/3 of "api.example.com"`, `as it is, after 3 search domains` */
  expansion?: string;
  truncated?: boolean;
}

export interface DnsFrame {
  proto: 6 | 17;
  payload: Buffer;
  clientIp: string;
  clientPort: number;
  /** true for the client → server direction (destination port 53) */
  toServer: boolean;
}

/** A response not matched within this long is reported unanswered. */
export const DNS_ANSWER_WAIT_MS = 5000;
const MAX_PENDING = 4096;
const CHAIN_MS = 10_000;

interface Pending {
  atMs: number;
  info: DnsInfo;
  clientIp: string;
  clientPort: number;
}

interface LastQuery {
  prefix: string;
  /** 1-based search index, or 0 for as-is */
  index: number;
  /** as-is: after how many search domains */
  after: number;
  atMs: number;
}

/** Decode a DNS message; null for anything that is not one (never throws). */
export function decodeDns(payload: Buffer, proto: 6 | 17): DecodedPacket | null {
  let msg = payload;
  if (proto === 6) {
    if (payload.length < 2) return null;
    const len = payload.readUInt16BE(0);
    if (payload.length < 2 + len) return null; // a message across segments: not followed
    msg = payload.subarray(2, 2 + len);
  }
  if (msg.length < 12) return null;
  try {
    const p = packet.decode(msg);
    return p.questions?.length ? p : null;
  } catch {
    return null;
  }
}

function answerText(a: NonNullable<DecodedPacket['answers']>[number]): string {
  const data = (a as { data?: unknown }).data;
  if (typeof data === 'string') return `${a.type} ${data}`;
  if (a.type === 'SRV' && data && typeof data === 'object') {
    const s = data as { target: string; port: number };
    return `SRV ${s.target}:${s.port}`;
  }
  return a.type;
}

/** Read `name` against a search list: the expansion it is (prefix, 1-based index) for each domain it ends with, longest domain first. */
export function expansionsOf(name: string, search: string[]): { prefix: string; index: number }[] {
  const out: { prefix: string; index: number }[] = [];
  search.forEach((d, i) => {
    const dom = d.toLowerCase();
    if (dom && name.length > dom.length + 1 && name.endsWith(`.${dom}`))
      out.push({ prefix: name.slice(0, -dom.length - 1), index: i + 1 });
  });
  return out.sort((a, b) => a.prefix.length - b.prefix.length);
}

export class DnsWatch {
  private readonly pending = new Map<string, Pending>();
  private readonly last = new Map<string, LastQuery>();
  /** a client's address as a source NAT made it ("ip:port/proto" on the wire) -> the client's own */
  private readonly aliases = new Map<string, { ip: string; port: number }>();

  constructor(
    /** the client pod's search list, when the node knows it */
    private readonly searchOf: (ip: string) => string[] | undefined = () => undefined,
    private readonly monoMs: () => number = () => performance.now(),
  ) {}

  /**
   * A query's source was translated (a pod's query masqueraded to its
   * node's address on the way to an outside server): its answer comes back
   * to the pod's own address, and is matched to it through this.
   */
  aliasClient(wireIp: string, wirePort: number, proto: number, ip: string, port: number): void {
    if (this.aliases.size >= MAX_PENDING) this.aliases.delete(this.aliases.keys().next().value!);
    this.aliases.set(`${wireIp}:${wirePort}/${proto}`, { ip, port });
  }

  /** A forwarded port-53 frame: what it says, or null when it is no DNS message. */
  see(f: DnsFrame): DnsInfo | null {
    const p = decodeDns(f.payload, f.proto);
    if (!p) return null;
    const q = p.questions![0];
    const name = q.name.toLowerCase();
    const client = (f.toServer && this.aliases.get(`${f.clientIp}:${f.clientPort}/${f.proto}`)) || {
      ip: f.clientIp,
      port: f.clientPort,
    };
    const key = `${client.ip}:${client.port}/${f.proto}/${p.id ?? 0}/${name}`;
    const now = this.monoMs();
    if (p.type === 'query' && f.toServer) {
      const info: DnsInfo = { id: p.id ?? 0, name: `${q.name}.`, type: q.type };
      const expansion = this.expansion(client.ip, name, now);
      if (expansion) info.expansion = expansion;
      if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
      this.pending.set(key, { atMs: now, info, clientIp: client.ip, clientPort: client.port });
      return info;
    }
    if (p.type !== 'response' || f.toServer) return null;
    const info: DnsInfo = {
      id: p.id ?? 0,
      name: `${q.name}.`,
      type: q.type,
      rcode: (p as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR',
      answers: (p.answers ?? []).map(answerText),
      ...(p.flag_tc ? { truncated: true } : {}),
    };
    const asked = this.pending.get(key);
    if (asked) {
      this.pending.delete(key);
      info.latencyMs = Math.round((now - asked.atMs) * 1000) / 1000;
      if (asked.info.expansion) info.expansion = asked.info.expansion;
    }
    return info;
  }

  /** Queries that waited past DNS_ANSWER_WAIT_MS, forgotten now (call about once a second). */
  unanswered(): (DnsInfo & { clientIp: string; clientPort: number; waitedMs: number })[] {
    const now = this.monoMs();
    const out: (DnsInfo & { clientIp: string; clientPort: number; waitedMs: number })[] = [];
    for (const [k, v] of this.pending) {
      if (now - v.atMs < DNS_ANSWER_WAIT_MS) continue;
      this.pending.delete(k);
      out.push({ ...v.info, clientIp: v.clientIp, clientPort: v.clientPort, waitedMs: Math.round(now - v.atMs) });
    }
    for (const [k, v] of this.last) if (now - v.atMs > CHAIN_MS) this.last.delete(k);
    return out;
  }

  /**
   * Which expansion a query name is. Alone a name is ambiguous
   * (backend.default.svc.cluster.local is "backend" through domain 1, or
   * "backend.default" through domain 2): the client's previous query
   * decides when the two chain (the library asks domain i+1 right after
   * domain i, and the name as it is after the last); otherwise the
   * shortest name the client could have asked for.
   */
  private expansion(clientIp: string, name: string, now: number): string | undefined {
    const search = this.searchOf(clientIp);
    if (!search?.length) return undefined;
    const prev = this.last.get(clientIp);
    const recent = prev && now - prev.atMs < CHAIN_MS ? prev : undefined;
    const options = expansionsOf(name, search);
    const asIs =
      recent && name === recent.prefix && (recent.index >= 1 || recent.after > 0)
        ? { prefix: name, index: 0, after: recent.index || recent.after }
        : undefined;
    const pick: { prefix: string; index: number; after?: number } | undefined =
      options.find(
        (o) => recent && o.prefix === recent.prefix && (o.index === recent.index || o.index === recent.index + 1),
      ) ??
      asIs ??
      options[0];
    if (!pick) return undefined;
    if (this.last.size >= MAX_PENDING) this.last.clear();
    const after = pick.after ?? 0;
    this.last.set(clientIp, { prefix: pick.prefix, index: pick.index, after, atMs: now });
    if (pick.index === 0) return `as it is, after ${after} search domain${after === 1 ? '' : 's'}`;
    return `search ${pick.index}/${search.length} of "${pick.prefix}"`;
  }
}
