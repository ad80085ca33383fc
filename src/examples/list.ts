import type { ExampleEntry } from './catalogue.js';

/** `podwire example list`: one line each — name, kinds, where it runs, what it shows. */
export function listLines(examples: readonly ExampleEntry[]): string[] {
  const rows = examples.map((e) => [
    e.name,
    [...new Set(e.kinds)].join(','),
    e.namespace ?? `${e.home} (the manifest’s)`,
    e.shows,
  ]);
  const head = ['NAME', 'KINDS', 'NAMESPACE', 'WHAT IT SHOWS'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('   ')
      .trimEnd(),
  );
}
