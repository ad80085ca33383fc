import type { Analysis } from './analyze.js';

const ms = (s?: number) => (s === undefined ? '-' : `${(s * 1000).toFixed(3)} ms`);

/** The text report: capture summary, VXLAN outer->inner, conversations, DNS, drops. */
export function formatAnalysis(a: Analysis, file: string): string {
  const lines: string[] = [];
  lines.push(`${file}: ${a.packets} packets, ${a.bytes} bytes, ${a.durationS.toFixed(3)} s`);
  lines.push(
    `protocols: ${Object.entries(a.protocols)
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (a.vxlan.length) {
    lines.push('', 'VXLAN (outer -> inner):');
    for (const v of a.vxlan) lines.push(`  ${v.outer}  VNI ${v.vni}  =>  ${v.inner}  (${v.packets} packets)`);
  }
  const tcp = a.conversations.filter((c) => c.proto === 'TCP');
  if (tcp.length) {
    lines.push('', 'TCP conversations:');
    lines.push(
      '  A <-> B                                         packets      bytes   duration  handshake RTT  retrans  resets',
    );
    for (const c of tcp) {
      lines.push(
        `  ${`${c.a} <-> ${c.b}`.padEnd(46)} ${String(c.packets).padStart(8)} ${String(c.bytes).padStart(10)} ${c.durationS.toFixed(3).padStart(9)}s ${ms(c.handshakeRttS).padStart(14)} ${String(c.retransmissions ?? 0).padStart(8)} ${String(c.resets ?? 0).padStart(7)}`,
      );
    }
  }
  const udp = a.conversations.filter((c) => c.proto === 'UDP');
  if (udp.length) {
    lines.push('', 'UDP conversations:');
    for (const c of udp)
      lines.push(
        `  ${`${c.a} <-> ${c.b}`.padEnd(46)} ${String(c.packets).padStart(8)} ${String(c.bytes).padStart(10)} ${c.durationS.toFixed(3).padStart(9)}s`,
      );
  }
  if (a.dns.length) {
    lines.push('', 'DNS (query -> answer):');
    for (const q of a.dns) {
      lines.push(
        `  ${q.client} -> ${q.server}  ${q.name} ${q.type}  ${q.rcode ?? 'no answer'}${q.answers !== undefined ? ` (${q.answers} answers)` : ''}  ${q.failed ? 'FAILED' : 'ok'}  ${ms(q.latencyS && q.latencyS > 0 ? q.latencyS : undefined)}`,
      );
    }
  }
  if (Object.keys(a.drops).length) {
    lines.push('', 'Dropped by podwire (pcapng comments):');
    for (const [r, n] of Object.entries(a.drops)) lines.push(`  ${r}: ${n}`);
  }
  return lines.join('\n');
}
