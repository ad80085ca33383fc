/**
 * A pod's status as the kubelet reports it, computed from what the node
 * knows (sandbox, container processes, probe results). Pure: the same
 * inputs give the same status, so the agent writes only real changes.
 */
export type ContainerState =
  | { state: 'waiting'; reason: string; message?: string }
  | { state: 'running'; startedAt: string }
  | { state: 'terminated'; exitCode: number; reason: string; startedAt?: string; finishedAt: string; message?: string };

export interface ContainerView {
  name: string;
  image: string;
  current: ContainerState;
  last?: ContainerState;
  restartCount: number;
  /** readiness: probe result, or running when there is no probe */
  ready: boolean;
  started: boolean;
}

export interface PodView {
  podIP?: string;
  hostIP: string;
  startTime?: string;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  containers: ContainerView[];
  /** ephemeral containers (kubectl debug): reported apart, no part of the phase or readiness */
  ephemeral?: ContainerView[];
  /** set while the sandbox could not be made */
  sandboxError?: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

function k8sState(s: ContainerState): Record<string, unknown> {
  if (s.state === 'waiting') return { waiting: { reason: s.reason, ...(s.message ? { message: s.message } : {}) } };
  if (s.state === 'running') return { running: { startedAt: s.startedAt } };
  return {
    terminated: {
      exitCode: s.exitCode,
      reason: s.reason,
      ...(s.message ? { message: s.message } : {}),
      ...(s.startedAt ? { startedAt: s.startedAt } : {}),
      finishedAt: s.finishedAt,
    },
  };
}

export function podPhase(v: PodView): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const cs = v.containers;
  if (!v.podIP || cs.length === 0) return 'Pending';
  const running = cs.filter((c) => c.current.state === 'running').length;
  const terminated = cs.filter((c) => c.current.state === 'terminated');
  if (running > 0) return 'Running';
  if (terminated.length === cs.length) {
    // All done: with restarts they would be waiting (back-off) instead.
    if (v.restartPolicy === 'Always') return 'Running';
    return terminated.every((c) => c.current.state === 'terminated' && c.current.exitCode === 0)
      ? 'Succeeded'
      : 'Failed';
  }
  // Some waiting: restarting (back-off) counts as Running once a container has started.
  return cs.some((c) => c.restartCount > 0 || c.last) ? 'Running' : 'Pending';
}

/**
 * The status document (`status` of the Pod). `previous` is the status the
 * API server holds now: a condition keeps its lastTransitionTime unless its
 * value changes.
 */
export function podStatus(v: PodView, previous: Record<string, any> | undefined, now: string): Record<string, any> {
  const phase = podPhase(v);
  const allReady = v.containers.length > 0 && v.containers.every((c) => c.ready);
  const prevConds: Condition[] = previous?.conditions ?? [];
  const cond = (type: string, ok: boolean, reason?: string, message?: string): Condition => {
    const status = ok ? 'True' : 'False';
    const was = prevConds.find((c) => c.type === type);
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: was && was.status === status ? was.lastTransitionTime : now,
      ...(ok ? {} : reason ? { reason } : {}),
      ...(ok ? {} : message ? { message } : {}),
    };
  };
  const notReady = v.containers.filter((c) => !c.ready).map((c) => c.name);
  const notReadyMsg = `containers with unready status: [${notReady.join(' ')}]`;
  const done = phase === 'Succeeded' || phase === 'Failed';
  const conditions = [
    cond('PodReadyToStartContainers', !!v.podIP && !v.sandboxError),
    cond('Initialized', true),
    cond('Ready', allReady && !done, done ? 'PodCompleted' : 'ContainersNotReady', done ? undefined : notReadyMsg),
    cond(
      'ContainersReady',
      allReady && !done,
      done ? 'PodCompleted' : 'ContainersNotReady',
      done ? undefined : notReadyMsg,
    ),
    cond('PodScheduled', true),
  ];
  return {
    phase,
    conditions,
    ...(v.sandboxError ? { message: v.sandboxError, reason: 'SandboxFailed' } : {}),
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    ...(v.podIP ? { podIP: v.podIP, podIPs: [{ ip: v.podIP }] } : {}),
    ...(v.startTime ? { startTime: v.startTime } : {}),
    containerStatuses: v.containers.map((c) => ({
      name: c.name,
      state: k8sState(c.current),
      lastState: c.last ? k8sState(c.last) : {},
      ready: c.ready,
      restartCount: c.restartCount,
      image: c.image,
      imageID: '',
      started: c.started,
    })),
    ...(v.ephemeral?.length
      ? {
          // as the kubelet reports them: never ready, no restarts, no started
          ephemeralContainerStatuses: v.ephemeral.map((c) => ({
            name: c.name,
            state: k8sState(c.current),
            lastState: {},
            ready: false,
            restartCount: 0,
            image: c.image,
            imageID: '',
          })),
        }
      : {}),
    qosClass: previous?.qosClass ?? 'BestEffort',
  };
}

export { canonicalJson } from '../control/index.js';
