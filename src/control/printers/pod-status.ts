import { since } from './duration.js';

/**
 * A pod's READY, STATUS and RESTARTS cells, computed as kubectl's printPod
 * does (pkg/printers/internalversion): the STATUS is the last container's
 * waiting or terminated reason when there is one (ContainerCreating,
 * CrashLoopBackOff, Error, Completed...), "Init:…" while init containers
 * run, "Terminating" once deletionTimestamp is set, else the pod's phase
 * (or status.reason).
 */
type Obj = Record<string, any>;

export interface PodCells {
  ready: string;
  status: string;
  restarts: string;
}

const isRestartableInit = (c: Obj | undefined) => c?.restartPolicy === 'Always';
const later = (a: string | undefined, b: string | undefined) =>
  !a ? b : !b ? a : Date.parse(b) > Date.parse(a) ? b : a;

export function podCells(pod: Obj, nowMs: number): PodCells {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  const initSpecs: Obj[] = spec.initContainers ?? [];
  let restarts = 0;
  let restartableInitRestarts = 0;
  const total = (spec.containers ?? []).length + initSpecs.filter(isRestartableInit).length;
  let ready = 0;
  let lastRestart: string | undefined;
  let lastRestartableInitRestart: string | undefined;
  let reason: string = status.reason || status.phase || '';
  for (const c of status.conditions ?? [])
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  let initializing = false;
  const initStatuses: Obj[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    const specOf = initSpecs.find((s) => s.name === c.name);
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    lastRestart = later(lastRestart, finished);
    if (isRestartableInit(specOf)) {
      restartableInitRestarts += c.restartCount ?? 0;
      lastRestartableInitRestart = later(lastRestartableInitRestart, finished);
    }
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (isRestartableInit(specOf) && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (term)
      reason = term.reason
        ? `Init:${term.reason}`
        : term.signal
          ? `Init:Signal:${term.signal}`
          : `Init:ExitCode:${term.exitCode}`;
    else if (wait && wait.reason && wait.reason !== 'PodInitializing') reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }

  const initializedTrue = (status.conditions ?? []).some((c: Obj) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const cs: Obj[] = status.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      restarts += c.restartCount ?? 0;
      lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
      const wait = c.state?.waiting;
      const term = c.state?.terminated;
      if (wait?.reason) reason = wait.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = (status.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')
        ? 'Running'
        : 'NotReady';
    }
  }

  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && !terminal) reason = 'Terminating';

  const restartsCell =
    restarts !== 0 && lastRestart ? `${restarts} (${since(lastRestart, nowMs)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, status: reason, restarts: restartsCell };
}

/** Ready condition true: what `wait --for=condition=Ready` and describe look at. */
export function conditionStatus(obj: Obj, type: string): string | undefined {
  return (obj.status?.conditions ?? []).find((c: Obj) => String(c.type).toLowerCase() === type.toLowerCase())?.status;
}
