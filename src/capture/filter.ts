import { dissectFrame, framePorts, ipProtocolName, ipv4ToString, type FrameSummary } from '../packet/index.js';
import { CaptureError } from './errors.js';

/** What a learner filters a capture by. On VXLAN frames the inner packet counts too. */
export interface CaptureFilter {
  proto?: string; // tcp | udp | icmp | arp | vxlan
  port?: number;
  host?: string;
  /** the UDP port VXLAN runs on (the agents' --vxlan-port; 4789 when unset) */
  vxlanPort?: number;
}

export function parseCaptureFilter(
  o: { proto?: string; port?: string; host?: string },
  vxlanPort?: number,
): CaptureFilter {
  const f: CaptureFilter = vxlanPort === undefined ? {} : { vxlanPort };
  if (o.proto) {
    const p = o.proto.toLowerCase();
    if (!['tcp', 'udp', 'icmp', 'arp', 'vxlan'].includes(p))
      throw new CaptureError('ERR_BAD_FILTER', `--proto must be tcp, udp, icmp, arp or vxlan (got "${o.proto}")`);
    f.proto = p;
  }
  if (o.port !== undefined) {
    const n = Number(o.port);
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      throw new CaptureError('ERR_BAD_FILTER', `--port must be 1..65535 (got "${o.port}")`);
    f.port = n;
  }
  if (o.host) f.host = o.host;
  return f;
}

/** The addresses, protocol name and ports a filter compares, of one decoded frame (outer or inner). */
function endpoints(s: FrameSummary): {
  proto: string;
  src?: string;
  dst?: string;
  ports?: { srcPort: number; dstPort: number };
} {
  if (s.arp) return { proto: 'arp', src: ipv4ToString(s.arp.senderIp), dst: ipv4ToString(s.arp.targetIp) };
  if (!s.ipv4) return { proto: '' };
  return {
    proto: ipProtocolName(s.ipv4.protocol).toLowerCase(),
    src: ipv4ToString(s.ipv4.src),
    dst: ipv4ToString(s.ipv4.dst),
    ports: framePorts(s),
  };
}

function layerMatches(s: FrameSummary, f: CaptureFilter, isVxlan: boolean): boolean {
  const d = endpoints(s);
  if (f.proto === 'vxlan' && !isVxlan) return false;
  if (f.proto && f.proto !== 'vxlan' && d.proto !== f.proto) return false;
  if (f.port !== undefined && d.ports?.srcPort !== f.port && d.ports?.dstPort !== f.port) return false;
  if (f.host && d.src !== f.host && d.dst !== f.host) return false;
  return true;
}

export function frameMatches(buf: Buffer, off: number, len: number, f: CaptureFilter): boolean {
  if (!f.proto && f.port === undefined && !f.host) return true;
  const outer = dissectFrame(buf, off, len, { vxlanPort: f.vxlanPort });
  const isVxlan = outer.vxlan !== undefined;
  if (layerMatches(outer, f, isVxlan)) return true;
  if (!outer.vxlan) return false;
  return layerMatches(outer.vxlan.inner, { ...f, proto: f.proto === 'vxlan' ? undefined : f.proto }, false);
}
