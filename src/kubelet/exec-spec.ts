/**
 * What an exec (kubectl exec, podwire exec, an exec probe) must enter to
 * see exactly what a running container sees: a process in the container's
 * final namespaces — network, mount, UTS, IPC and PID (the container's own
 * PID namespace, or the pod's with shareProcessNamespace) — and the
 * identity the container's process runs with. Enter it with
 * `nsenter --target <pid> --all`, then drop to the identity with setpriv
 * (execIdentityArgv below builds that part, the same argv the runtime
 * starts the container with).
 */
export interface ExecSpec {
  /** the container's name */
  container: string;
  /** a process in the container's namespaces (checked alive and ours when the spec was made) */
  pid: number;
  /** the container's user and primary group (securityContext runAsUser/runAsGroup; 0 when unset) */
  uid: number;
  gid: number;
  /** supplementary groups: runAsGroup/gid, then the pod's supplementalGroups and fsGroup */
  groups: number[];
  /** capability names as Kubernetes spells them (NET_ADMIN …): the container's bounding set, effective when uid 0 */
  caps: string[];
  /** PR_SET_NO_NEW_PRIVS (always true: bubblewrap sets it for every sandbox; see runtime.ts) */
  noNewPrivs: boolean;
  /** a privileged container: every capability, the node's /dev, / writable */
  privileged: boolean;
  /** the container's environment as it started */
  env: Record<string, string>;
  /** workingDir, else / */
  cwd: string;
}

export { execIdentityArgv } from './security.js';
