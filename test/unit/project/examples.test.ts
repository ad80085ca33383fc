import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

// examples/ holds verbatim copies of the manifests in the seed articles (see
// examples/README.md). These tests keep them verbatim, well-formed and listed.

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
// The seed articles sit in ../shared beside the repository (as CI lays it out).
const seedsDir =
  process.env.PODWIRE_SEEDS_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/seeds');
const MALFORMED = 'malformed';

const yamlIn = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort()
    : [];

/** Well-formed manifests: examples/*.yaml. */
const files = yamlIn(examplesDir);
/** Verbatim but deliberately kept malformed manifests: examples/malformed/*.yaml. */
const malformed = yamlIn(join(examplesDir, MALFORMED)).map((f) => `${MALFORMED}/${f}`);
const allFiles = [...files, ...malformed];

const read = (rel: string): string => readFileSync(join(examplesDir, rel), 'utf8');

/** Lines with trailing whitespace removed and leading/trailing blank lines dropped. */
function lines(text: string): string[] {
  const out = text.split(/\r?\n/).map((l) => l.trimEnd());
  while (out.length > 0 && out[0] === '') out.shift();
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/** Removes the indentation common to all non-blank lines. */
function dedent(ls: string[]): string[] {
  let common = Infinity;
  for (const l of ls) if (l !== '') common = Math.min(common, l.length - l.trimStart().length);
  return common === Infinity || common === 0 ? ls : ls.map((l) => l.slice(common));
}

/**
 * Where the file's normalised lines occur as a contiguous block of the seed's
 * lines, once the block's own common indentation is removed (an article may
 * indent a whole manifest), or -1.
 */
function findBlock(seed: string[], file: string[]): number {
  const n = file.length;
  for (let i = 0; i + n <= seed.length; i++) {
    if (seed[i].trimStart() !== file[0].trimStart()) continue; // cheap pre-check
    const window = dedent(seed.slice(i, i + n));
    if (window.every((l, k) => l === file[k])) return i;
  }
  return -1;
}

/** Empty list when the document has apiVersion, kind and metadata.name. */
function shapeProblems(doc: unknown): string[] {
  const o = (doc ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof o !== 'object' || Array.isArray(o)) return ['is not a mapping'];
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') problems.push('has no apiVersion');
  if (typeof o.kind !== 'string' || o.kind === '') problems.push('has no kind');
  const meta = o.metadata as Record<string, unknown> | null | undefined;
  if (!meta || typeof meta !== 'object' || typeof meta.name !== 'string' || meta.name === '') {
    problems.push('has no metadata.name');
  }
  return problems;
}

/** README table rows, by the file named (in backticks) in their first cell. */
function readmeRows(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of read('README.md').split('\n')) {
    if (!line.startsWith('|')) continue;
    const first = line.split('|')[1] ?? '';
    const m = /`([^`]+\.yaml)`/.exec(first);
    if (m) {
      if (rows.has(m[1])) throw new Error(`examples/README.md lists ${m[1]} twice`);
      rows.set(m[1], line);
    }
  }
  return rows;
}

describe('examples/ (verbatim manifests from the seed articles)', () => {
  it('has examples', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s: every document parses and has apiVersion, kind, metadata.name', (file) => {
    const docs = parseAllDocuments(read(file));
    const problems: string[] = [];
    if (!Array.isArray(docs) || docs.length === 0) problems.push(`${file}: no documents`);
    else {
      docs.forEach((doc, i) => {
        const where = `${file} document ${i + 1}/${docs.length}`;
        for (const e of doc.errors) problems.push(`${where}: ${e.message}`);
        if (doc.errors.length === 0) for (const p of shapeProblems(doc.toJS())) problems.push(`${where} ${p}`);
      });
    }
    expect(problems).toEqual([]);
  });

  it.each(malformed)('%s: parses but is still malformed (a negative fixture)', (file) => {
    const docs = parseAllDocuments(read(file));
    expect(Array.isArray(docs) && docs.length > 0).toBe(true);
    if (!Array.isArray(docs)) return;
    for (const doc of docs) expect(doc.errors).toEqual([]);
    expect(docs.some((doc) => shapeProblems(doc.toJS()).length > 0)).toBe(true);
  });

  it.each(allFiles)('%s: carries no markdown fence', (file) => {
    expect(lines(read(file)).filter((l) => l.trimStart().startsWith('```'))).toEqual([]);
  });

  describe(`verbatim in a seed article (${seedsDir})`, () => {
    it('has the seed articles to compare with (missing: a loud failure, never a skip)', () => {
      expect(existsSync(seedsDir), `${seedsDir} not found: the examples cannot be checked against the seeds`).toBe(
        true,
      );
    });
    const seeds = existsSync(seedsDir)
      ? readdirSync(seedsDir)
          .filter((f) => f.endsWith('.txt'))
          .sort()
          .map((name) => ({ name, lines: lines(readFileSync(join(seedsDir, name), 'utf8')) }))
      : [];

    it.each(allFiles)('%s', (file) => {
      const want = dedent(lines(read(file)));
      expect(want.length).toBeGreaterThan(0);
      const found = seeds.map((s) => ({ seed: s.name, line: findBlock(s.lines, want) })).filter((m) => m.line >= 0);
      expect(found, `${file} is not a contiguous block of any seed article`).not.toEqual([]);
      // The README's source column names the article it came from.
      const row = readmeRows().get(file) ?? '';
      expect(
        found.some((m) => row.includes(m.seed)),
        `README row for ${file} should name ${found.map((m) => m.seed).join(' or ')}`,
      ).toBe(true);
    });
  });

  it('README lists every file, and every file it lists exists', () => {
    const listed = [...readmeRows().keys()].sort();
    const missingFromReadme = allFiles.filter((f) => !listed.includes(f));
    const missingOnDisk = listed.filter((f) => !existsSync(join(examplesDir, f)));
    expect({ missingFromReadme, missingOnDisk }).toEqual({ missingFromReadme: [], missingOnDisk: [] });
  });
});
