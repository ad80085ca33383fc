import fs from 'node:fs';

/**
 * Reading the process table (/proc): when a process started (to tell a
 * reused PID from ours), who its children are, which namespaces it is in.
 */

function statFields(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // after "pid (comm) ": comm may hold spaces and parentheses
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Whether the process exists and has not ended (a zombie has: it only waits to be reaped). */
export function processRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** Field 22 of /proc/PID/stat: when the process started; tells a reused PID from ours. */
export function processStartTicks(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** The namespace a process is in, e.g. nsOf(pid, 'mnt') → 'mnt:[4026532240]' (null when it is gone). */
export function nsOf(pid: number, kind: 'mnt' | 'pid' | 'uts' | 'ipc' | 'net'): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/** Every process's children, from the ppid field of each /proc/PID/stat. */
export function childrenMap(): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const ppid = Number(statFields(Number(e))?.[1]);
    if (!Number.isInteger(ppid)) continue;
    const list = out.get(ppid) ?? [];
    list.push(Number(e));
    out.set(ppid, list);
  }
  return out;
}

/**
 * The process groups that still have a running member: a zombie does not
 * count (it has ended; where PID 1 does not reap, as in some containers,
 * an orphan's zombie would otherwise keep its group "alive" for ever).
 */
export function liveProcessGroups(): Set<number> {
  const out = new Set<number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(Number(e)); // [0] state, [1] ppid, [2] pgrp
    if (f && f[0] !== 'Z' && f[0] !== 'X') out.add(Number(f[2]));
  }
  return out;
}

/**
 * The first descendant of rootPid (breadth first) in another mount
 * namespace than rootPid's: the process a sandbox tool (bubblewrap) made,
 * which is in the sandbox's final namespaces. Null while there is none yet.
 */
export function sandboxedDescendant(rootPid: number): number | null {
  const rootNs = nsOf(rootPid, 'mnt');
  if (!rootNs) return null;
  const kids = childrenMap();
  const queue = [...(kids.get(rootPid) ?? [])];
  while (queue.length) {
    const pid = queue.shift()!;
    const ns = nsOf(pid, 'mnt');
    if (ns && ns !== rootNs) return pid;
    queue.push(...(kids.get(pid) ?? []));
  }
  return null;
}
