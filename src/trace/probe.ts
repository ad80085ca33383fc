import { finishChecksum, sum16, pseudoHeaderSumV4, internetChecksum } from '../packet/index.js';

export type ProbeProto = 'tcp' | 'udp' | 'icmp';

export interface ProbeSpec {
  srcMac: Buffer;
  dstMac: Buffer;
  srcIp: number;
  dstIp: number;
  proto: ProbeProto;
  port: number;
  /** IPv4 identification: how the agents recognise the probe */
  id: number;
  ttl: number;
  /** IPv4 total length; the probe is padded up to it (DF set, so the path must carry it whole) */
  size: number;
}

const MARK = Buffer.from('podwire-trace');

/**
 * A complete, valid probe frame: TCP SYN, UDP datagram or ICMP echo request,
 * DF set, checksums computed, padded to `size` so it tests the path MTU too.
 */
export function buildProbe(s: ProbeSpec): Buffer {
  const l4Header = s.proto === 'tcp' ? 20 : 8;
  const size = Math.max(s.size, 20 + l4Header);
  const f = Buffer.alloc(14 + size);
  s.dstMac.copy(f, 0);
  s.srcMac.copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  const ip = 14;
  f[ip] = 0x45;
  f.writeUInt16BE(size, ip + 2);
  f.writeUInt16BE(s.id, ip + 4);
  f.writeUInt16BE(0x4000, ip + 6);
  f[ip + 8] = s.ttl;
  f[ip + 9] = s.proto === 'tcp' ? 6 : s.proto === 'udp' ? 17 : 1;
  f.writeUInt32BE(s.srcIp >>> 0, ip + 12);
  f.writeUInt32BE(s.dstIp >>> 0, ip + 16);
  f.writeUInt16BE(finishChecksum(sum16(f, ip, 20)), ip + 10);
  const l4 = ip + 20;
  const l4Len = size - 20;
  MARK.copy(f, l4 + l4Header, 0, Math.min(MARK.length, l4Len - l4Header));
  if (s.proto === 'tcp') {
    f.writeUInt16BE(40000 + (s.id % 20000), l4);
    f.writeUInt16BE(s.port, l4 + 2);
    f.writeUInt32BE((s.id * 65537) >>> 0, l4 + 4);
    f[l4 + 12] = 5 << 4;
    f[l4 + 13] = 0x02; // SYN
    f.writeUInt16BE(64240, l4 + 14);
    f.writeUInt16BE(finishChecksum(sum16(f, l4, l4Len, pseudoHeaderSumV4(s.srcIp, s.dstIp, 6, l4Len))), l4 + 16);
  } else if (s.proto === 'udp') {
    f.writeUInt16BE(40000 + (s.id % 20000), l4);
    f.writeUInt16BE(s.port, l4 + 2);
    f.writeUInt16BE(l4Len, l4 + 4);
    const c = finishChecksum(sum16(f, l4, l4Len, pseudoHeaderSumV4(s.srcIp, s.dstIp, 17, l4Len)));
    f.writeUInt16BE(c === 0 ? 0xffff : c, l4 + 6);
  } else {
    f[l4] = 8; // echo request
    f.writeUInt16BE(s.id, l4 + 4);
    f.writeUInt16BE(1, l4 + 6);
    f.writeUInt16BE(internetChecksum(f, l4, l4Len), l4 + 2);
  }
  return f;
}

/** "web-2", "10.244.2.2", "10.244.2.2:80", "web-2:53/udp", "10.1.2.3/icmp" */
export function parseTarget(t: string): { host: string; port: number; proto: ProbeProto } {
  const m = /^([^:/]+)(?::(\d+))?(?:\/(tcp|udp|icmp))?$/.exec(t);
  if (!m) throw new Error(`target "${t}" must look like <pod|ip>[:<port>][/tcp|udp|icmp]`);
  const port = m[2] ? Number(m[2]) : 0;
  if (m[2] && (port < 1 || port > 65535)) throw new Error(`port ${m[2]} out of range`);
  const proto = (m[3] as ProbeProto | undefined) ?? (port ? 'tcp' : 'icmp');
  if (proto !== 'icmp' && !port) throw new Error(`${proto} needs a port: ${m[1]}:<port>/${proto}`);
  return { host: m[1], port, proto };
}

/**
 * A Service as trace destination: `svc/NAME` or `svc/NAMESPACE/NAME`
 * (`service/` too), with an optional `:port` and `/tcp|udp`. Null when the
 * target does not name a Service that way (a pod or an address: see
 * parseTarget).
 */
export function parseServiceTarget(
  t: string,
): { namespace: string; name: string; port?: number; proto?: ProbeProto } | null {
  const m = /^(?:svc|service|services)\/(.+)$/.exec(t);
  if (!m) return null;
  let rest = m[1];
  let proto: ProbeProto | undefined;
  const p = /\/(tcp|udp|icmp)$/.exec(rest);
  if (p) {
    proto = p[1] as ProbeProto;
    rest = rest.slice(0, p.index);
  }
  const n = /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?::(\d+))?$/.exec(rest);
  if (!n) throw new Error(`target "${t}" must look like svc/[<namespace>/]<name>[:<port>][/tcp|udp]`);
  const port = n[5] ? Number(n[5]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) throw new Error(`port ${n[5]} out of range`);
  if (proto === 'icmp')
    throw new Error('a Service answers TCP and UDP ports only: trace svc/<name>[:<port>][/tcp|udp]');
  return {
    namespace: n[1] ?? 'default',
    name: n[3],
    ...(port !== undefined ? { port } : {}),
    ...(proto ? { proto } : {}),
  };
}
