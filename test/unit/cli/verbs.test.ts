import { describe, expect, it } from 'vitest';
import { buildProgram, CliError } from '../../../src/cli/main.js';
import type { CliIo } from '../../../src/cli/verbs/deps.js';

// The podwire verbs, assembled by main.ts from src/cli/verbs, writing to injected streams.
function run(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (c) => void out.push(typeof c === 'string' ? c : Buffer.from(c).toString()),
    err: (t) => void err.push(t),
    isTTY: () => false,
    onOutError: () => {},
  };
  const done = buildProgram(io).parseAsync(['node', 'podwire', ...args]);
  return { done, out: () => out.join(''), err: () => err.join('') };
}

describe('podwire verbs (one module each)', () => {
  it('are all registered, in the order --help lists them', () => {
    const names = buildProgram().commands.map((c) => c.name());
    expect(names.slice(0, 14)).toEqual([
      'lab',
      'www',
      'cloudlb',
      'agent',
      'apiserver',
      'apply',
      'pod',
      'exec',
      'capture',
      'capture-here',
      'drops',
      'observe',
      'observe-l7-relay',
      'trace',
    ]);
    expect(names).toEqual(expect.arrayContaining(['analyze', 'bench', 'lb', 'conntrack', 'get', 'probe']));
  });

  it('write to the streams they are given', async () => {
    const r = run('lab', 'break');
    await r.done;
    const lines = r.out().split('\n');
    expect(lines[0]).toMatch(/^SCENARIO +TARGET +WHAT IT BREAKS +FIND IT WITH$/);
    expect(r.out()).toContain('agent-down');
    expect(r.err()).toBe('');
  });

  it('fail with a CliError when the lab is not up or a flag is wrong', async () => {
    await expect(run('--lab', 'pwh3none', 'drops').done).rejects.toThrow(
      new CliError('no lab "pwh3none" is up (run: podwire lab up)'),
    );
    await expect(run('observe', '--verdict', 'LOST').done).rejects.toBeInstanceOf(CliError);
    await expect(run('lab', 'up', '--demo', '--no-control-plane').done).rejects.toThrow(
      '--demo needs the control plane (leave out --no-control-plane)',
    );
  });
});
