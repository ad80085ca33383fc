/**
 * The truth table in words (pure): cyclonus's layout, one table per
 * protocol/port with rows = from and columns = to, as `ns/pod`; the
 * legend; for probes through Services, which Service each target was
 * reached by; the summary; then every mismatch with what was expected
 * (and the model's reason) beside what was seen.
 */
import { table } from '../text/index.js';
import type { Cell, ProbeMatrix } from './matrix.js';

export const LEGEND =
  '. allowed as expected   X blocked as expected   ! observed differs from expected   ? not probed   - no target';

const MODE_WORDS: Record<ProbeMatrix['to'], string> = {
  pods: 'pod IP',
  'service-ip': 'Service ClusterIP',
  'service-name': 'Service name',
};

export function summaryLine(m: ProbeMatrix): string {
  const s = m.summary;
  const parts = [`${s.correct}/${s.compared + s.notProbed} correct`, `${s.wrong} wrong`];
  if (s.notProbed) parts.push(`${s.notProbed} not probed`);
  if (s.noTarget) parts.push(`${s.noTarget} without a target`);
  return parts.join(', ');
}

function cellLine(c: Cell, table: string): string {
  return `  ${c.from} -> ${c.to} ${table}${c.via ? ` (via ${c.via})` : ''}: expected ${c.expected}, observed ${c.observed}: ${c.detail}`;
}

export function formatMatrix(m: ProbeMatrix): string {
  const out: string[] = [];
  for (const n of m.notes) out.push(n);
  if (m.notes.length) out.push('');
  const heads = m.pods.map((p) => p.pod);
  for (const t of m.tables) {
    out.push(
      table(
        [t.name, ...heads],
        t.rows.map((row, i) => [heads[i], ...row.map((c) => c.mark)]),
      ),
    );
    out.push('');
  }
  out.push(LEGEND);
  if (m.to !== 'pods' && m.tables.length) {
    out.push(`targets by ${MODE_WORDS[m.to]}:`);
    // a target's Service is the same from every source: read it off the first row
    const rows = heads.map((h, j) => [h, ...m.tables.map((t) => t.rows[0]?.[j]?.via ?? '-')]);
    out.push(
      ...table(['TO', ...m.tables.map((t) => t.name)], rows)
        .split('\n')
        .map((l) => `  ${l}`),
    );
  }
  out.push(summaryLine(m));
  const wrong: string[] = [];
  const notProbed: string[] = [];
  for (const t of m.tables)
    for (const row of t.rows)
      for (const c of row) {
        if (c.mark === '!') wrong.push(cellLine(c, t.name), `      model: ${c.why}`);
        else if (c.mark === '?') notProbed.push(`  ${c.from} -> ${c.to} ${t.name}: ${c.detail}`);
      }
  if (wrong.length) out.push('wrong:', ...wrong);
  if (notProbed.length) out.push('not probed:', ...notProbed);
  return out.join('\n');
}

export function matrixJson(m: ProbeMatrix): string {
  return JSON.stringify(m, null, 2);
}
