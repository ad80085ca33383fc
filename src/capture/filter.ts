import { describeFrame } from '../observe/flow-log.js';

/** What a learner filters a capture by. On VXLAN frames the inner packet counts too. */
export interface CaptureFilter {
  proto?: string; // tcp | udp | icmp | arp | vxlan
  port?: number;
  host?: string;
}

export function parseCaptureFilter(o: { proto?: string; port?: string; host?: string }): CaptureFilter {
  const f: CaptureFilter = {};
  if (o.proto) {
    const p = o.proto.toLowerCase();
    if (!['tcp', 'udp', 'icmp', 'arp', 'vxlan'].includes(p))
      throw new Error(`--proto must be tcp, udp, icmp, arp or vxlan (got "${o.proto}")`);
    f.proto = p;
  }
  if (o.port !== undefined) {
    const n = Number(o.port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--port must be 1..65535 (got "${o.port}")`);
    f.port = n;
  }
  if (o.host) f.host = o.host;
  return f;
}

function layerMatches(d: ReturnType<typeof describeFrame>, f: CaptureFilter, isVxlan: boolean): boolean {
  if (f.proto === 'vxlan' && !isVxlan) return false;
  if (f.proto && f.proto !== 'vxlan' && (d.proto ?? '').toLowerCase() !== f.proto) return false;
  if (f.port !== undefined && d.srcPort !== f.port && d.dstPort !== f.port) return false;
  if (f.host && d.src !== f.host && d.dst !== f.host) return false;
  return true;
}

const VXLAN_INNER = 14 + 20 + 8 + 8;

export function frameMatches(buf: Buffer, off: number, len: number, f: CaptureFilter): boolean {
  if (!f.proto && f.port === undefined && !f.host) return true;
  const outer = describeFrame(buf, off, len);
  const isVxlan = outer.proto === 'UDP' && outer.dstPort === 4789 && len >= VXLAN_INNER + 14;
  if (layerMatches(outer, f, isVxlan)) return true;
  if (!isVxlan) return false;
  const ihl = (buf[off + 14] & 0x0f) * 4;
  const inner = off + 14 + ihl + 16;
  return layerMatches(
    describeFrame(buf, inner, off + len - inner),
    { ...f, proto: f.proto === 'vxlan' ? undefined : f.proto },
    false,
  );
}
