/**
 * `podwire probe`'s matrix as the Policy view's grid (pure): one table (the
 * port and protocol asked), observed folded to what the grid draws, and
 * each cell's explanation in the policy explainer's words (the model's
 * verdict: which policy isolates, which rule allows).
 */
import type { Cell, ProbeMatrix } from '../probe/index.js';
import type { UiProbeCell, UiProbeMatrix } from './contract.js';

/** connected and refused both reached the pod; silence, unreachable and no name are blocked. */
export function observedOf(o: Cell['observed']): UiProbeCell['observed'] {
  if (o === 'connected' || o === 'refused') return 'allowed';
  if (o === 'blocked' || o === 'unreachable' || o === 'dns-failed') return 'blocked';
  return 'not-probed';
}

export function probeMatrixToUi(m: ProbeMatrix, namespace: string, port: number, proto: string): UiProbeMatrix {
  const t = m.tables.find((x) => x.port === port && x.proto === proto) ?? m.tables[0];
  const pods = m.pods.map((p) => p.pod);
  const cells: UiProbeCell[][] = (t?.rows ?? []).map((row) =>
    row.map((c) => ({
      from: c.from,
      to: c.to,
      observed: observedOf(c.observed),
      expected: c.expected,
      explain: c.observed === 'not-probed' || c.observed === 'error' ? `${c.why} (not probed: ${c.detail})` : c.why,
    })),
  );
  return { namespace, pods, port: t?.port ?? port, proto: t?.proto ?? proto, cells };
}
