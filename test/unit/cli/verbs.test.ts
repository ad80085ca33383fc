import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { buildProgram, commandName, registrarsFor, VERBS, CliError } from '../../../src/cli/main.js';
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
  const argv = ['node', 'podwire', ...args];
  // as main() builds it: only the verb argv names
  const done = registrarsFor(argv).then(async (r) => (await buildProgram(io, r)).parseAsync(argv));
  return { done, out: () => out.join(''), err: () => err.join('') };
}

describe('podwire verbs (one module each)', () => {
  it('are all registered, in the order --help lists them', async () => {
    const names = (await buildProgram()).commands.map((c) => c.name());
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

  it('each module registers exactly the commands its VERBS entry names (what main loads for a command)', async () => {
    const all: string[] = [];
    for (const v of VERBS) {
      const program = new Command();
      (await v.load())(program, {} as never);
      const names = program.commands.map((c) => c.name());
      expect(names, v.names.join(' ')).toEqual(v.names);
      all.push(...names);
    }
    expect(new Set(all).size).toBe(all.length);
    expect(commandName(['node', 'podwire', '--lab', 'x', '--server', 'unix:/s', 'get', 'pods'])).toBe('get');
    expect(commandName(['node', 'podwire', '--help'])).toBeUndefined();
    expect(await registrarsFor(['node', 'podwire', 'exec', 'p', '--', 'ls'])).toHaveLength(1);
    expect(await registrarsFor(['node', 'podwire', 'nonsense'])).toHaveLength(VERBS.length);
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
