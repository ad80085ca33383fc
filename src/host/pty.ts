import type { IPty } from 'node-pty';
import { HostError } from './errors.js';

/**
 * A process on a pseudo-terminal (what `kubectl exec -t` asks for): the one
 * other way the project starts processes, beside process.ts. node-pty is
 * native, so it is loaded on first use: an agent starts even where it was
 * not built, and says so only when a terminal is asked for.
 */
type NodePty = typeof import('node-pty');
let ptyModule: Promise<NodePty> | null = null;

function loadPty(): Promise<NodePty> {
  ptyModule ??= import('node-pty').then((m) => ((m as { default?: NodePty }).default ?? m) as NodePty);
  return ptyModule;
}

export interface PtyOptions {
  /** $TERM's value for the terminal */
  name: string;
  cols: number;
  rows: number;
  cwd: string;
  env: Record<string, string>;
}

/** Start argv on a new pseudo-terminal of the given size. */
export async function startPty(argv: readonly string[], o: PtyOptions): Promise<IPty> {
  const [file, ...args] = argv;
  if (!file) throw new HostError('ERR_BAD_NAME', 'empty command', argv);
  const pty = await loadPty();
  return pty.spawn(file, args, o);
}

export type { IPty };
