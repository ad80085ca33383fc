import fs from 'node:fs';
import path from 'node:path';
import { runProcessSync, packagePath } from '../host/index.js';
import { ensureMissingToolShims } from './image-tools.js';
import { KubeletError } from './errors.js';

/** build/Release/podwire-workload, two levels above src/kubelet or dist/kubelet */
export const WORKLOAD_BIN = packagePath('build', 'Release', 'podwire-workload');

/**
 * What built-in images need on this node: the workload binary, and a
 * directory of busybox applet links (busybox-based images put them first on
 * PATH, so `wget` or `nc` in a manifest's command behave as in the image).
 */
export function workloadTools(stateDir: string): { workloadBin: string; busyboxDir: string; missingToolsDir: string } {
  if (!fs.existsSync(WORKLOAD_BIN))
    throw new KubeletError('ERR_WORKLOAD_MISSING', `${WORKLOAD_BIN} is missing: build it with npm rebuild (node-gyp)`);
  const busyboxDir = path.join(stateDir, 'busybox-bin');
  let busybox: string | null = null;
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin'])) {
    if (fs.existsSync(path.join(dir, 'busybox'))) {
      busybox = path.join(dir, 'busybox');
      break;
    }
  }
  fs.mkdirSync(busyboxDir, { recursive: true });
  if (busybox) {
    const applets = runProcessSync([busybox, '--list'])
      .split('\n')
      .filter((a) => /^[a-z0-9_.\[-]+$/.test(a));
    for (const a of applets) {
      const link = path.join(busyboxDir, a);
      if (!fs.existsSync(link)) fs.symlinkSync(busybox, link);
    }
  }
  const missingToolsDir = path.join(stateDir, 'missing-tools');
  ensureMissingToolShims(missingToolsDir); // debug images' tools the node lacks name their package
  return { workloadBin: WORKLOAD_BIN, busyboxDir, missingToolsDir };
}
