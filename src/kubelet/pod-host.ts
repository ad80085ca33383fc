import type { SandboxBind } from '../host/index.js';
import type { PodRecord } from './sandbox.js';

/**
 * What of the node a pod asks for, as `kubectl debug node/NODE` makes one:
 * hostNetwork (the node's network namespace — the agent's own — no veth,
 * no address of its own: the pod's IP is the node's), hostPID and hostIPC
 * (the agent's PID and IPC namespaces), and hostPath volumes (the node's
 * files bound in). Pure.
 */
export interface PodHostSpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  volumes?: { name: string; hostPath?: { path: string; type?: string } }[];
}

export interface ContainerMountsSpec {
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** A hostNetwork pod's sandbox record: the node's namespace ('' — the agent's own) and address. */
export function hostNetworkRecord(key: string, namespace: string, uid: string, nodeIp: string): PodRecord {
  return {
    name: key,
    namespace,
    uid,
    ip: nodeIp,
    mac: '',
    netns: '',
    hostVeth: '',
    createdAt: new Date().toISOString(),
  };
}

/**
 * The container's hostPath volumes as binds. The node is the machine the
 * lab runs on, so a hostPath is bound read-only unless the container is
 * privileged (Kubernetes binds it writable unless the mount says readOnly);
 * other volume types are not mounted (podwire has no volumes yet).
 */
export function hostPathBinds(spec: PodHostSpec, c: ContainerMountsSpec, privileged: boolean): SandboxBind[] {
  const out: SandboxBind[] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = (spec.volumes ?? []).find((x) => x.name === m.name);
    if (!v?.hostPath?.path || !m.mountPath?.startsWith('/')) continue;
    out.push({ src: v.hostPath.path, dest: m.mountPath, readOnly: m.readOnly === true || !privileged });
  }
  return out;
}
