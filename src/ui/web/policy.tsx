import { useState } from 'preact/hooks';
import type { UiProbeCell, UiProbeMatrix } from '../contract.js';
import { getJson } from './api.js';

/**
 * The Policy view: `podwire probe`'s matrix of a namespace as a grid (colour and the word, so it
 * reads without colour), a click on a cell explains its verdict, and the article's two graphs —
 * every pod reaching every other without NetworkPolicy, and the edges still allowed with it.
 */

interface Pt {
  x: number;
  y: number;
}

/**
 * The pods on a ring, the article's picture: every pair's edge is visible (no pod sits on another's
 * line) and the places are the same in both graphs, so the eye compares edges, not positions. A
 * ring needs no layout engine.
 */
/** a pod's name without its namespace when it is the matrix's own: the namespace is in the caption */
const shortName = (p: string, ns: string) => (p.startsWith(`${ns}/`) ? p.slice(ns.length + 1) : p);
/** the width of a pod's box in the graphs: its name at ~7 px a character */
const boxWidth = (labels: string[]) => Math.max(80, ...labels.map((l) => l.length * 7 + 16));

function ring(pods: string[], boxW: number): Map<string, Pt> {
  const r = Math.max(90, (pods.length * Math.max(130, boxW * 0.7)) / (2 * Math.PI));
  return new Map(
    pods.map((p, i) => {
      const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, pods.length);
      return [p, { x: r + boxW / 2 + 6 + r * Math.cos(a), y: r + 16 + r * Math.sin(a) }];
    }),
  );
}

function Graph(props: {
  title: string;
  pods: string[];
  label(p: string): string;
  boxW: number;
  allowed: (a: string, b: string) => boolean;
  pos: Map<string, Pt>;
}) {
  const pts = [...props.pos.values()];
  const w = Math.max(200, ...pts.map((p) => p.x + props.boxW / 2 + 6));
  const h = Math.max(120, ...pts.map((p) => p.y + 24));
  const edges: [string, string][] = [];
  for (const a of props.pods) for (const b of props.pods) if (a !== b && props.allowed(a, b)) edges.push([a, b]);
  return (
    <figure class="policy-graph">
      <figcaption>
        {props.title} — {edges.length} allowed connection{edges.length === 1 ? '' : 's'}
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h + 4}`} role="group" aria-label={props.title}>
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="10"
            refY="5"
            markerWidth="6"
            markerHeight="6"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" />
          </marker>
        </defs>
        {edges.map(([a, b]) => {
          const p = props.pos.get(a);
          const q = props.pos.get(b);
          if (!p || !q) return null;
          // a slight offset so a→b and b→a are two lines
          const dx = q.x - p.x;
          const dy = q.y - p.y;
          const len = Math.hypot(dx, dy) || 1;
          const ox = (-dy / len) * 4;
          const oy = (dx / len) * 4;
          const shorten = 16 / len;
          return (
            <line
              class="allowed-edge"
              x1={p.x + ox + dx * shorten}
              y1={p.y + oy + dy * shorten}
              x2={q.x + ox - dx * shorten}
              y2={q.y + oy - dy * shorten}
              marker-end="url(#arrow)"
            >
              <title>{`${a} → ${b} allowed`}</title>
            </line>
          );
        })}
        {props.pods.map((p) => {
          const at = props.pos.get(p);
          return at ? (
            <g class="graph-pod">
              <rect x={at.x - props.boxW / 2} y={at.y - 13} width={props.boxW} height={26} rx={6} />
              <text x={at.x} y={at.y + 4} text-anchor="middle">
                {props.label(p)}
              </text>
            </g>
          ) : null;
        })}
      </svg>
    </figure>
  );
}

export function Policy(props: { namespaces: string[] }) {
  const [ns, setNs] = useState(props.namespaces.includes('default') ? 'default' : (props.namespaces[0] ?? 'default'));
  const [matrix, setMatrix] = useState<UiProbeMatrix | undefined>(undefined);
  const [cell, setCell] = useState<UiProbeCell | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const probe = async () => {
    setBusy(true);
    setError('');
    setCell(undefined);
    try {
      setMatrix(await getJson<UiProbeMatrix>(`/api/probe?namespace=${encodeURIComponent(ns)}`));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const label = (p: string) => shortName(p, matrix?.namespace ?? '');
  const boxW = boxWidth((matrix?.pods ?? []).map(label));
  const pos = matrix ? ring(matrix.pods, boxW) : undefined;
  const verdictOf = (a: string, b: string) => {
    if (!matrix) return undefined;
    const i = matrix.pods.indexOf(a);
    const j = matrix.pods.indexOf(b);
    return matrix.cells[i]?.[j];
  };
  return (
    <section class="policy-view" aria-label="Policy">
      <div class="toolbar">
        <label>
          Namespace
          <select
            value={ns}
            onChange={(e) => setNs((e.target as HTMLSelectElement).value)}
            aria-label="Probe namespace"
          >
            {props.namespaces.map((n) => (
              <option value={n}>{n}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void probe()} disabled={busy}>
          {busy ? 'Probing…' : 'Probe every pair'}
        </button>
      </div>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {matrix ? (
        <>
          <table class="matrix" aria-label={`Reachability in ${matrix.namespace}, ${matrix.proto}/${matrix.port}`}>
            <caption>
              {matrix.namespace}: from (rows) → to (columns), {matrix.proto}/{matrix.port}
            </caption>
            <thead>
              <tr>
                <th scope="col">from \ to</th>
                {matrix.pods.map((p) => (
                  <th scope="col">{shortName(p, matrix.namespace)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {matrix.cells.map((row, i) => (
                <tr>
                  <th scope="row">{shortName(matrix.pods[i], matrix.namespace)}</th>
                  {row.map((c) => (
                    <td
                      class={`cell ${c.observed} ${c.observed !== 'not-probed' && c.observed !== c.expected ? 'unexpected' : ''}`}
                    >
                      <button
                        type="button"
                        aria-label={`${c.from} to ${c.to}: ${c.observed}, expected ${c.expected}; explain`}
                        aria-pressed={cell === c}
                        onClick={() => setCell(c)}
                      >
                        {c.observed === 'allowed' ? '✔ allowed' : c.observed === 'blocked' ? '✖ blocked' : '—'}
                      </button>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          <div class="explain" aria-live="polite">
            {cell ? (
              <>
                <h3>
                  {cell.from} → {cell.to}: {cell.observed} (expected {cell.expected})
                </h3>
                <pre>{cell.explain}</pre>
              </>
            ) : (
              <p>Click a cell to see which policy isolates and which rule allows.</p>
            )}
          </div>
          {pos ? (
            <div class="graphs">
              <Graph
                title="Without NetworkPolicy"
                pods={matrix.pods}
                label={label}
                boxW={boxW}
                pos={pos}
                allowed={() => true}
              />
              <Graph
                title="With the namespace's NetworkPolicies"
                pods={matrix.pods}
                label={label}
                boxW={boxW}
                pos={pos}
                allowed={(a, b) => verdictOf(a, b)?.observed === 'allowed'}
              />
            </div>
          ) : null}
        </>
      ) : (
        <p>Probe a namespace to see which pods reach which.</p>
      )}
    </section>
  );
}
