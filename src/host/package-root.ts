import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The podwire checkout (or installed package) this code runs from: the nearest folder above this
 * file whose package.json is podwire's. Files the code needs beside it (bin/podwire.js, dist/'s
 * separate entry points, build/Release's native programs, examples/) are found from here rather
 * than from each module's own place: the same module runs from src/ (tests), dist/<folder>/ (tsc)
 * and dist/bundle/ (the CLI bundle), at different depths.
 */
export function packageRoot(): string {
  if (root) return root;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'podwire')
      return (root = dir);
    // no package.json above (a copied-out file): where src/host and dist/host sit
    if (path.dirname(dir) === dir) return (root = path.resolve(here, '../..'));
  }
}

/** A path inside the package: packagePath('dist', 'probe', 'prober-main.js'). */
export const packagePath = (...parts: string[]): string => path.join(packageRoot(), ...parts);
