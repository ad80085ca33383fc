import type { Endpoint, Explanation, Path, Side } from './policy-explain.js';

/**
 * explain-policy's answer in words (pure): the connection, egress at the
 * source, ingress at the destination — through a Service, for each backend
 * pod on its target port — and the verdict on the last line.
 *
 *   default/client (10.244.1.3, node1) → default/web-1 (10.244.2.5, node2) TCP/8080
 *     egress at default/client: open — no policy isolates it for egress
 *     ingress at default/web-1: denied — isolated by default/deny-all; no rule allowed it
 *   verdict: denied (ingress at default/web-1)
 */

const at = (e: Endpoint) => `${e.namespace}/${e.name}`;
const where = (e: Endpoint) =>
  `${at(e)} (${e.ip}${e.node ? `, ${e.node}` : ''}${e.hostNetwork ? ', hostNetwork' : ''})`;

function sideLines(dir: 'egress' | 'ingress', e: Endpoint, s: Side, indent: string): string[] {
  const head = `${indent}${dir} at ${at(e)}: `;
  switch (s.verdict) {
    case 'open':
      return [`${head}open — no policy isolates it for ${dir}`];
    case 'not-judged':
      return [`${head}not judged — ${s.reason}`];
    case 'allowed':
      return [`${head}${s.ruleText ? `allowed by ${s.ruleText}` : `allowed — ${s.reason}`}`];
    case 'denied': {
      const lines = [`${head}denied — isolated by ${(s.isolatedBy ?? []).join(', ')}; no rule allowed it`];
      for (const m of s.misses ?? []) {
        const why =
          m.peer && !m.port
            ? 'the peer matches, the port does not'
            : !m.peer && m.port
              ? 'the port matches, the peer does not'
              : 'neither the peer nor the port matches';
        lines.push(`${indent}  ${m.ruleText} — ${why}`);
      }
      if (!(s.misses ?? []).length) lines.push(`${indent}  (the isolating policies have no ${dir} rule: deny all)`);
      return lines;
    }
  }
}

function pathLines(from: Endpoint, p: Path, indent: string, withBackend: boolean): string[] {
  const lines: string[] = [];
  let inner = indent;
  if (withBackend) {
    if (p.port === null) return [`${indent}${where(p.backend)} — ${p.note}`];
    lines.push(
      `${indent}${where(p.backend)} ${p.protocol}/${p.port}${p.ready ? '' : ' (not ready: the Service sends it no new connection)'}`,
    );
    inner = `${indent}  `;
  }
  lines.push(...sideLines('egress', from, p.egress, inner), ...sideLines('ingress', p.backend, p.ingress, inner));
  return lines;
}

export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  if (e.to.kind === 'Pod') {
    const p = e.ports[0].paths[0];
    lines.push(`${where(e.from)} → ${where(p.backend)} ${p.protocol}/${p.port}`, ...pathLines(e.from, p, '  ', false));
    const denied = [
      p.egress.verdict === 'denied' ? `egress at ${at(e.from)}` : '',
      p.ingress.verdict === 'denied' ? `ingress at ${at(p.backend)}` : '',
    ].filter(Boolean);
    lines.push(p.allowed ? 'verdict: allowed' : `verdict: denied (${denied.join(' and ')})`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `${where(e.from)} → svc ${e.to.namespace}/${e.to.name}${e.to.ip ? ` (${e.to.ip})` : ''}: judged after DNAT, on each backend pod and its target port`,
  );
  for (const port of e.ports) {
    lines.push(
      `  port ${port.port}/${port.protocol}:${port.paths.length ? '' : ' no backend pod (the Service selects none)'}`,
    );
    for (const p of port.paths) lines.push(...pathLines(e.from, p, '    ', true));
  }
  const counted = e.ports.flatMap((p) => p.paths).filter((p) => p.ready && p.port !== null);
  const ok = counted.filter((p) => p.allowed).length;
  const of = `${ok} of ${counted.length} ready ${e.ports.length > 1 ? 'backend ports' : 'backends'}`;
  if (e.verdict === 'no-backends')
    lines.push(
      `verdict: no backend — no ready pod serves svc ${e.to.namespace}/${e.to.name} on ${e.ports.length > 1 ? 'those ports' : 'that port'}: nothing to connect to`,
    );
  else if (e.verdict === 'partly-allowed')
    lines.push(
      `verdict: partly allowed (${of}) — a new connection works only when the Service picks an allowed backend`,
    );
  else lines.push(`verdict: ${e.verdict} (${of})`);
  return `${lines.join('\n')}\n`;
}
