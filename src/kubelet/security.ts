/**
 * A container's identity, as a container runtime derives it from the Pod
 * spec (containerd's CRI plugin): the user and groups it runs as, its
 * capabilities and whether it is privileged. Pure: the runtime turns it
 * into bubblewrap and setpriv arguments (see runtime.ts), exec enters with
 * the same (exec-spec.ts).
 */

import { toolPath } from '../host/index.js';

/** containerd's default capability set (oci.DefaultCapabilities / Docker's), the bounding set of a container. */
export const DEFAULT_CAPS = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
] as const;

/** Every capability Linux 6.x knows (capability.h), in number order. */
export const ALL_CAPS = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const;

export interface SecurityContextLite {
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
}

export interface PodSecurityContextLite {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  supplementalGroups?: number[];
  fsGroup?: number;
}

export interface ContainerSecurity {
  uid: number;
  gid: number;
  /** supplementary groups (the primary group first) */
  groups: number[];
  /** the capability set (Kubernetes spelling, no CAP_ prefix), sorted in number order */
  caps: string[];
  privileged: boolean;
  readOnlyRootFilesystem: boolean;
  /** always true here: bubblewrap sets PR_SET_NO_NEW_PRIVS on every sandbox (see runtime.ts) */
  noNewPrivs: boolean;
}

/** A securityContext the runtime refuses, as CreateContainerConfigError. */
export class SecurityContextError extends Error {
  readonly code = 'ERR_SECURITY_CONTEXT';
  constructor(message: string) {
    super(message);
    this.name = 'SecurityContextError';
  }
}

const capName = (c: string): string => c.toUpperCase().replace(/^CAP_/, '');

/**
 * containerd's getCapabilities: "ALL" in add gives every capability and
 * "ALL" in drop none, before the single names are added and dropped (so
 * drop [ALL] add [NET_BIND_SERVICE] is just that one).
 */
export function capabilities(add: string[] = [], drop: string[] = []): string[] {
  const known = new Set<string>(ALL_CAPS);
  for (const c of [...add, ...drop]) {
    const n = capName(c);
    if (n !== 'ALL' && !known.has(n)) throw new SecurityContextError(`unknown capability "${c}"`);
  }
  let caps = new Set<string>(DEFAULT_CAPS);
  if (add.some((c) => capName(c) === 'ALL')) caps = new Set(ALL_CAPS);
  if (drop.some((c) => capName(c) === 'ALL')) caps = new Set();
  for (const c of add) if (capName(c) !== 'ALL') caps.add(capName(c));
  for (const c of drop) if (capName(c) !== 'ALL') caps.delete(capName(c));
  return ALL_CAPS.filter((c) => caps.has(c));
}

/**
 * The container's identity from its securityContext over the pod's. The
 * image's USER is root here (the node's filesystem is every container's
 * image), so without runAsUser a container runs as 0:0, and runAsNonRoot
 * without a runAsUser is refused as the kubelet refuses it.
 */
export function containerSecurity(
  c: SecurityContextLite | undefined,
  pod: PodSecurityContextLite | undefined,
): ContainerSecurity {
  const sc = c ?? {};
  const ps = pod ?? {};
  const uid = sc.runAsUser ?? ps.runAsUser ?? 0;
  const gid = sc.runAsGroup ?? ps.runAsGroup ?? 0;
  for (const [what, n] of [
    ['runAsUser', uid],
    ['runAsGroup', gid],
  ] as const)
    if (!Number.isInteger(n) || n < 0 || n > 2 ** 32 - 2)
      throw new SecurityContextError(`${what} ${n} is not a valid id`);
  if ((sc.runAsNonRoot ?? ps.runAsNonRoot) && uid === 0)
    throw new SecurityContextError(
      (sc.runAsUser ?? ps.runAsUser) !== undefined
        ? 'container has runAsNonRoot and runAsUser 0 (will run as root)'
        : 'container has runAsNonRoot and image will run as root (pod: set runAsUser)',
    );
  const privileged = sc.privileged === true;
  const groups = [
    ...new Set([gid, ...(ps.supplementalGroups ?? []), ...(ps.fsGroup !== undefined ? [ps.fsGroup] : [])]),
  ];
  return {
    uid,
    gid,
    groups,
    caps: privileged ? [...ALL_CAPS] : capabilities(sc.capabilities?.add, sc.capabilities?.drop),
    privileged,
    readOnlyRootFilesystem: sc.readOnlyRootFilesystem === true,
    noNewPrivs: true,
  };
}

/**
 * setpriv (util-linux) dropping to the container's identity: its user and
 * groups, its capability bounding set (a root container's permitted and
 * effective sets after exec; a non-root one has none, as with runc), no
 * inheritable or ambient capabilities. A privileged container keeps all.
 * Runs with CAP_SETUID, CAP_SETGID and CAP_SETPCAP, which the sandbox
 * grants for this step only.
 */
export function execIdentityArgv(
  s: Pick<ContainerSecurity, 'uid' | 'gid' | 'groups' | 'caps' | 'privileged'>,
): string[] {
  return [
    toolPath('setpriv'),
    `--reuid=${s.uid}`,
    `--regid=${s.gid}`,
    s.groups.length ? `--groups=${s.groups.join(',')}` : '--clear-groups',
    ...(s.privileged
      ? []
      : [`--bounding-set=-all${s.caps.map((c) => `,+${c.toLowerCase()}`).join('')}`, '--inh-caps=-all']),
    '--',
  ];
}
