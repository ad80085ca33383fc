import type { CommandRunner } from './runner.js';
import { cmd } from './commands.js';

/** Named network namespaces whose names start with `prefix-`. */
export async function listNetns(runner: CommandRunner, prefix?: string): Promise<string[]> {
  const { stdout } = await runner.run(cmd.netnsList(), { allowFailure: true });
  let rows: { name: string }[] = [];
  try {
    rows = stdout.trim() ? (JSON.parse(stdout) as { name: string }[]) : [];
  } catch {
    rows = [];
  }
  return rows.map((r) => r.name).filter((n) => (prefix ? n === prefix || n.startsWith(`${prefix}-`) : true));
}

export async function netnsExists(runner: CommandRunner, name: string): Promise<boolean> {
  return (await listNetns(runner)).includes(name);
}

/** Create a namespace unless it exists (idempotent, like Flannel's ensureLink). */
export async function ensureNetns(runner: CommandRunner, name: string): Promise<void> {
  if (!(await netnsExists(runner, name))) await runner.run(cmd.netnsAdd(name));
}

/** Delete every namespace carrying `prefix`; deleting one takes its links with it. */
export async function deleteNetnsWithPrefix(runner: CommandRunner, prefix: string): Promise<string[]> {
  const found = await listNetns(runner, prefix);
  for (const ns of found) await runner.run(cmd.netnsDelete(ns), { allowFailure: true });
  return found;
}

/** PIDs of processes whose network namespace is `ns` (`ip netns pids`). */
export async function netnsPids(runner: CommandRunner, ns: string): Promise<number[]> {
  const { stdout } = await runner.run(['ip', 'netns', 'pids', ns], { allowFailure: true });
  return stdout
    .split(/\s+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0);
}

/**
 * SIGKILL every process inside the namespaces carrying `prefix`, then delete
 * them: for tools whose namespaces hold nothing but what they started
 * (benchmarks, also what an earlier run that died left behind).
 */
export async function sweepNetns(runner: CommandRunner, prefix: string): Promise<string[]> {
  for (const ns of await listNetns(runner, prefix)) {
    for (const pid of await netnsPids(runner, ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  return deleteNetnsWithPrefix(runner, prefix);
}
