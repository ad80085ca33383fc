/**
 * Pure argv builders for a pod's sandbox and its containers, as a container
 * runtime makes them, with Debian's bubblewrap (bwrap) and util-linux's
 * nsenter. Why bubblewrap, not namespace code of our own or `unshare` and a
 * shell of `mount` calls: it is the sandbox Flatpak and GNOME ship,
 * maintained and audited; it builds a new root on a tmpfs, binds the node's
 * / into it read-only *recursively* (every submount too — util-linux 2.38's
 * mount cannot), pivots into it, mounts a fresh /proc for the PID namespace
 * (and covers /proc/sys, /proc/irq, /proc/bus, /proc/sysrq-trigger
 * read-only, as runc does), makes a minimal /dev, sets the capabilities and
 * PR_SET_NO_NEW_PRIVS, and joins an existing PID namespace by fd. What it
 * lacks is joining a network, UTS or IPC namespace: nsenter does that
 * first, and setpriv (util-linux) sets the user, groups and bounding set
 * last (bwrap changes uid only inside a user namespace, which would make
 * the container's root an unprivileged user of the node).
 */

import { toolPath } from './process.js';

export interface SandboxBind {
  src: string;
  dest: string;
  readOnly: boolean;
}

export interface SandboxMounts {
  /** the node's / read-only (false: writable, for privileged containers) */
  readOnlyRoot: boolean;
  /** private tmpfs over these (e.g. /tmp 1777, /run, /var/tmp, the agent's state): nothing of the node's shows */
  tmpfs: { dest: string; mode?: string }[];
  /** files and directories bound in after the tmpfs (the pod's /etc files, tools kept visible) */
  binds: SandboxBind[];
  /** the node's /dev (privileged) instead of a minimal one */
  hostDev: boolean;
  /**
   * bind these entries of the node's / (symlinks made as symlinks) on the
   * sandbox's own root instead of / itself, which is then remounted
   * read-only when readOnlyRoot: a bind may then make a mount point the
   * node's / lacks (a hostPath volume at /host)
   */
  rootEntries?: { path: string; symlink?: string }[];
}

export interface PodSandboxSpec {
  /** the pod's network namespace (named, under /run/netns); null: the caller's (hostNetwork) */
  netns: string | null;
  hostname: string;
  mounts: SandboxMounts;
  /** argv of the pause process */
  pause: string[];
}

export interface ContainerSandboxSpec {
  /** null: the caller's network namespace (hostNetwork) */
  netns: string | null;
  /** hostIPC: the caller's IPC namespace, not the pod's */
  hostIpc?: boolean;
  /** hostPID: the caller's PID namespace (neither the pod's nor one of its own) */
  hostPid?: boolean;
  /** a process of the pod's sandbox (the pause's init): its UTS and IPC namespaces are joined */
  podPid: number;
  /** join the pod's PID namespace through this fd (shareProcessNamespace), else a PID namespace of its own */
  podPidnsFd: number | null;
  mounts: SandboxMounts;
  /** capabilities the sandbox hands to what it runs (Kubernetes spelling), or 'all' */
  caps: string[] | 'all';
  cwd: string;
  /** what runs inside: setpriv …, then the container's command */
  argv: string[];
}

function mountArgs(m: SandboxMounts): string[] {
  const bind = m.readOnlyRoot ? '--ro-bind' : '--bind';
  const out = m.rootEntries
    ? m.rootEntries.flatMap((e) => (e.symlink ? ['--symlink', e.symlink, e.path] : [bind, e.path, e.path]))
    : [bind, '/', '/'];
  for (const t of m.tmpfs) out.push(...(t.mode ? ['--perms', t.mode] : []), '--tmpfs', t.dest);
  for (const b of m.binds) out.push(b.readOnly ? '--ro-bind' : '--bind', b.src, b.dest);
  out.push('--proc', '/proc');
  if (m.hostDev) out.push('--dev-bind', '/dev', '/dev');
  else out.push('--dev', '/dev');
  if (m.rootEntries && m.readOnlyRoot) out.push('--remount-ro', '/');
  return out;
}

const capArgs = (caps: string[] | 'all'): string[] =>
  caps === 'all' ? ['--cap-add', 'ALL'] : ['--cap-drop', 'ALL', ...caps.flatMap((c) => ['--cap-add', `CAP_${c}`])];

/**
 * The pod's sandbox: the pause process in the pod's network namespace with
 * a PID, UTS (hostname) and IPC namespace of its own, which the pod's
 * containers join (bwrap's init, a reaper, is PID 1; pause runs under it).
 */
export function podSandboxArgv(s: PodSandboxSpec): string[] {
  return [
    toolPath('nsenter'),
    ...(s.netns !== null ? [`--net=/run/netns/${s.netns}`] : []),
    '--',
    toolPath('bwrap'),
    ...mountArgs(s.mounts),
    '--unshare-pid',
    '--unshare-uts',
    '--unshare-ipc',
    '--hostname',
    s.hostname,
    '--cap-drop',
    'ALL',
    '--chdir',
    '/',
    '--',
    ...s.pause,
  ];
}

/** A container in its pod's sandbox: the pod's network, UTS and IPC namespaces, a mount namespace of its own. */
export function containerSandboxArgv(s: ContainerSandboxSpec): string[] {
  return [
    toolPath('nsenter'),
    ...(s.netns !== null ? [`--net=/run/netns/${s.netns}`] : []),
    `--uts=/proc/${s.podPid}/ns/uts`,
    ...(s.hostIpc ? [] : [`--ipc=/proc/${s.podPid}/ns/ipc`]),
    '--',
    toolPath('bwrap'),
    ...mountArgs(s.mounts),
    ...(s.hostPid ? [] : s.podPidnsFd !== null ? ['--pidns', String(s.podPidnsFd)] : ['--unshare-pid']),
    ...capArgs(s.caps),
    '--chdir',
    s.cwd,
    '--',
    ...s.argv,
  ];
}
