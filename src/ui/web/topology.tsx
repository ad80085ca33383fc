import { useEffect, useState } from 'preact/hooks';
import type { UiFlow, UiTopology } from '../contract.js';
import { centre, hopPoints, ids, layoutTopology, structureKey, type TopoLayout } from './layout.js';
import { describePath, flowTitle, type FlowEntry } from './store.js';

/**
 * The Topology view: the articles' two-node diagram drawn from the live topology, with the flows
 * of the last minute animated along their real path and drops marked in red at their hop. SVG,
 * so every node, pod, Service and flow is text a screen reader and a test can read.
 */

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .filter(([k]) => !k.startsWith('pod-template-hash'))
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

/** at most this many flows are drawn (the newest): beyond it the picture would be noise and slow */
const DRAWN_FLOWS = 80;

export function Topology(props: {
  topology: UiTopology;
  flows: FlowEntry[];
  selected?: string;
  onSelectFlow(f: UiFlow): void;
}) {
  const { topology: t } = props;
  const key = structureKey(t);
  const [layout, setLayout] = useState<{ key: string; l: TopoLayout } | undefined>(undefined);
  const [error, setError] = useState('');
  useEffect(() => {
    let live = true;
    layoutTopology(t).then(
      (l) => live && setLayout({ key, l }),
      (e: Error) => live && setError(`layout failed: ${e.message}`),
    );
    return () => {
      live = false;
    };
    // the layout follows the structure, not every status change of a pod
  }, [key]);
  if (error) return <p role="alert">{error}</p>;
  if (!layout) return <p>Laying out the topology…</p>;
  const l = layout.l;
  const box = (id: string) => l.boxes.get(id);
  const drawn = props.flows.slice(-DRAWN_FLOWS);
  // drops at the same hop stack their reasons one above the other instead of over each other
  const dropsAt = new Map<string, number>();
  return (
    <svg
      class="topology"
      viewBox={`0 0 ${Math.ceil(l.width)} ${Math.ceil(l.height)}`}
      role="group"
      aria-label="Topology: nodes, their pods, Services and live flows"
      preserveAspectRatio="xMidYMin meet"
    >
      {/* the underlay the nodes' eth0 hang from */}
      {(() => {
        const u = box(ids.underlay);
        if (!u) return null;
        return (
          <g class="underlay" data-testid="underlay">
            <line x1={u.x} x2={u.x + u.w} y1={u.y + u.h / 2} y2={u.y + u.h / 2} />
            <text x={u.x + 8} y={u.y + u.h + 12}>
              underlay network (eth0)
            </text>
            {t.nodes.map((n) => {
              const e = box(ids.eth0(n.name));
              return e ? (
                <line class="uplink" x1={e.x + e.w / 2} x2={e.x + e.w / 2} y1={e.y + e.h} y2={u.y + u.h / 2} />
              ) : null;
            })}
          </g>
        );
      })()}
      {t.nodes.map((n) => {
        const b = box(ids.node(n.name));
        if (!b) return null;
        const part = (id: string, cls: string, text: string) => {
          const p = box(id);
          return p ? (
            <g class={`part ${cls}`}>
              <rect x={p.x} y={p.y} width={p.w} height={p.h} rx={4} />
              <text x={p.x + p.w / 2} y={p.y + p.h / 2 + 4} text-anchor="middle">
                {text}
              </text>
            </g>
          ) : null;
        };
        const c = box(ids.cbr0(n.name));
        const pods = box(ids.pods(n.name));
        return (
          <g class={`k8s-node ${n.ready ? '' : 'not-ready'} agent-${n.agent}`} data-node={n.name}>
            <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={8} />
            <text class="node-title" x={b.x + 10} y={b.y + 20}>
              {`${n.name} · ${n.ip}${n.ready ? '' : ' · NotReady'}${n.agent === 'down' ? ' · agent down' : ''}`}
            </text>
            {c && pods ? (
              <line class="wire" x1={c.x + c.w / 2} x2={c.x + c.w / 2} y1={c.y} y2={pods.y + pods.h} />
            ) : null}
            {part(ids.cbr0(n.name), 'cbr0', `cbr0 ${n.gateway}`)}
            {part(ids.agent(n.name), 'agent', `agent (${n.podCidr})`)}
            {part(ids.eth0(n.name), 'eth0', `eth0 ${n.ip}`)}
          </g>
        );
      })}
      {t.services.map((s) => {
        const id = `${s.namespace}/${s.name}`;
        const b = box(ids.svc(id));
        if (!b) return null;
        const from = centre(b);
        return (
          <g class="service" data-service={id}>
            {s.backends.map((be) => {
              const podId = be.pod ? (be.pod.includes('/') ? be.pod : `${s.namespace}/${be.pod}`) : '';
              const p = podId ? box(ids.pod(podId)) : undefined;
              if (!p) return null;
              return (
                <line
                  class={`backend-link ${be.ready ? '' : 'not-ready'}`}
                  x1={from.x}
                  y1={b.y + b.h}
                  x2={p.x + p.w / 2}
                  y2={p.y}
                />
              );
            })}
            <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={14} />
            <text x={b.x + b.w / 2} y={b.y + 18} text-anchor="middle">
              {`svc ${id}`}
            </text>
            <text class="small" x={b.x + b.w / 2} y={b.y + 34} text-anchor="middle">
              {`${s.clusterIP} ${s.ports.map((p) => `${p.port}/${p.protocol}`).join(',')}`}
            </text>
          </g>
        );
      })}
      {t.pods.map((p) => {
        const id = `${p.namespace}/${p.name}`;
        const b = box(ids.pod(id));
        if (!b) return null;
        return (
          <g class={`pod ${p.role ? `role-${p.role}` : ''} ${p.ready ? '' : 'not-ready'}`} data-pod={id}>
            <rect x={b.x} y={b.y} width={b.w} height={b.h} rx={6} />
            <text x={b.x + 6} y={b.y + 15}>
              {(p.role ? `[${p.role.toUpperCase()}] ` : '') + id}
            </text>
            <text class="small" x={b.x + 6} y={b.y + 31}>
              {`${p.ip || '(no IP)'} ${p.phase}`}
            </text>
            <text class="small labels" x={b.x + 6} y={b.y + 47}>
              {labelText(p.labels).slice(0, 34)}
            </text>
          </g>
        );
      })}
      {drawn.map((f) => {
        const perHop = f.path.map((h, i) => hopPoints(h, l, f.path[i + 1], f.path[i - 1]));
        const pts = perHop.flat();
        if (pts.length < 2) return null;
        const drop = f.dropAt ? perHop[f.dropAt.hop]?.[0] : undefined;
        let stack = 0;
        if (drop) {
          const at = `${Math.round(drop.x)},${Math.round(drop.y)}`;
          stack = dropsAt.get(at) ?? 0;
          dropsAt.set(at, stack + 1);
        }
        const title = flowTitle(f);
        return (
          <g
            class={`flow verdict-${f.verdict.toLowerCase()} ${props.selected === f.key ? 'selected' : ''}`}
            data-flow-key={f.key}
            role="button"
            tabIndex={0}
            aria-label={`${title}: ${describePath(f)}`}
            onClick={() => props.onSelectFlow(f)}
            onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && props.onSelectFlow(f)}
          >
            <title>{`${title}\n${describePath(f)}`}</title>
            <polyline class="flow-hit" points={pts.map((p) => `${p.x},${p.y}`).join(' ')} />
            <polyline class="flow-line" points={pts.map((p) => `${p.x},${p.y}`).join(' ')} />
            {drop ? (
              <g class="drop-mark">
                <circle cx={drop.x} cy={drop.y} r={8} />
                {/* the reason on the side with room for it */}
                <text
                  x={drop.x > l.width * 0.6 ? drop.x - 12 : drop.x + 12}
                  y={drop.y - 10 - 15 * stack}
                  text-anchor={drop.x > l.width * 0.6 ? 'end' : 'start'}
                >
                  {`✖ ${f.reason ?? 'dropped'}`}
                </text>
              </g>
            ) : null}
          </g>
        );
      })}
    </svg>
  );
}
