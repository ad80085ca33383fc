import fs from 'node:fs';
import path from 'node:path';
import { processRunning } from '../host/index.js';
import { LabError } from './errors.js';

/**
 * What the lab's supervisor (supervisor.ts) and the lab commands agree on:
 *   - a lock around starting and stopping the lab's processes, so the
 *     supervisor never restarts an agent that `lab restart-agent` or `lab fix`
 *     is restarting at the same moment (two agents on one node);
 *   - which nodes are held down on purpose (`lab break agent-down`): the
 *     supervisor leaves those alone until `lab fix`.
 */

const lockFile = (stateDir: string) => path.join(stateDir, 'processes.lock');
const heldDir = (stateDir: string) => path.join(stateDir, 'held');

/** Take the lab's process lock if free (or left by a process that is gone); true when taken. */
export function tryLock(stateDir: string): boolean {
  const file = lockFile(stateDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (owner === process.pid) return false; // ours already: not re-entrant
      if (Number.isInteger(owner) && owner > 0 && processRunning(owner)) return false;
      fs.rmSync(file, { force: true }); // its owner died holding it
    }
  }
  return false;
}

export function unlock(stateDir: string): void {
  try {
    if (Number(fs.readFileSync(lockFile(stateDir), 'utf8').trim()) === process.pid) fs.rmSync(lockFile(stateDir));
  } catch {
    // not ours, or gone
  }
}

/** Run fn holding the lab's process lock (waiting up to timeoutMs for it). */
export async function withProcessLock<T>(stateDir: string, fn: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!tryLock(stateDir)) {
    if (Date.now() > deadline)
      throw new LabError('ERR_LAB_BUSY', `the lab's process lock (${lockFile(stateDir)}) stayed taken`);
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    unlock(stateDir);
  }
}

export function holdNode(stateDir: string, node: string): void {
  fs.mkdirSync(heldDir(stateDir), { recursive: true });
  fs.writeFileSync(path.join(heldDir(stateDir), node), '');
}

export function releaseNode(stateDir: string, node: string): void {
  fs.rmSync(path.join(heldDir(stateDir), node), { force: true });
}

export function isHeld(stateDir: string, node: string): boolean {
  return fs.existsSync(path.join(heldDir(stateDir), node));
}
