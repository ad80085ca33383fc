import { resourcePath } from '../../control/client/index.js';
import { resourceType } from './args.js';
import type { KubeContext } from './context.js';
import { KubeError } from './errors.js';
import { selects } from '../../control/printers/index.js';

/**
 * `logs POD|TYPE/NAME [-c CONTAINER] [-f] [--tail N] [--previous]`: GET
 * pods/NAME/log, which the API server passes on to the agent of the pod's
 * node. For a Deployment or StatefulSet, one of its pods, chosen as kubectl
 * does (scheduled, running, ready, most restarts, oldest).
 */
type Obj = Record<string, any>;

export interface LogsFlags {
  namespace: string;
  container?: string;
  follow?: boolean;
  tail?: string;
  previous?: boolean;
  timestamps?: boolean;
  allContainers?: boolean;
  selector?: string;
  /** prefix each line with [pod/NAME/CONTAINER] */
  prefix?: boolean;
}

const PHASE_RANK: Record<string, number> = { Running: 0, Unknown: 1, Pending: 2 };
const isReady = (p: Obj) => (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
const restarts = (p: Obj) =>
  (p.status?.containerStatuses ?? []).reduce((n: number, c: Obj) => Math.max(n, c.restartCount ?? 0), 0);

/** controller.ByLogging: the pod kubectl logs picks first. */
export function byLogging(a: Obj, b: Obj): number {
  const assigned = (p: Obj) => (p.spec?.nodeName ? 0 : 1);
  if (assigned(a) !== assigned(b)) return assigned(a) - assigned(b);
  const ra = PHASE_RANK[a.status?.phase] ?? 3;
  const rb = PHASE_RANK[b.status?.phase] ?? 3;
  if (ra !== rb) return ra - rb;
  if (isReady(a) !== isReady(b)) return isReady(a) ? -1 : 1;
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  return Date.parse(a.metadata.creationTimestamp ?? 0) - Date.parse(b.metadata.creationTimestamp ?? 0);
}

async function podsFor(ctx: KubeContext, target: string | undefined, f: LogsFlags): Promise<Obj[]> {
  if (f.selector) {
    if (target) throw new KubeError('only a selector (-l) or a POD name is allowed');
    const pods = (await ctx.client.list('pods', { namespace: f.namespace, labelSelector: f.selector })).items;
    if (!pods.length) ctx.err(`No resources found in ${f.namespace} namespace.\n`);
    return pods;
  }
  if (!target) throw new KubeError('expected POD or TYPE/NAME is a required argument for the logs command');
  const slash = target.indexOf('/');
  const r = slash > 0 ? resourceType(target.slice(0, slash)) : resourceType('pods');
  const name = slash > 0 ? target.slice(slash + 1) : target;
  const obj = await ctx.client.tryGet(r, f.namespace, name);
  if (!obj)
    throw new KubeError(
      `error from server (NotFound): ${r.plural}${r.group ? `.${r.group}` : ''} "${name}" not found in namespace "${f.namespace}"`,
    );
  if (r.kind === 'Pod') return [obj];
  const selector = r.kind === 'Service' ? { matchLabels: obj.spec?.selector ?? {} } : obj.spec?.selector;
  if (!selector) throw new KubeError(`cannot get the logs from ${r.kind.toLowerCase()}: selector not found`);
  const pods = (await ctx.client.list('pods', { namespace: f.namespace })).items
    .filter((p) => selects(selector, p.metadata.labels))
    .sort(byLogging);
  if (!pods.length) throw new KubeError(`timed out waiting for the condition`);
  if (pods.length > 1) ctx.err(`Found ${pods.length} pods, using pod/${pods[0].metadata.name}\n`);
  return [pods[0]];
}

function containersOf(ctx: KubeContext, pod: Obj, f: LogsFlags): string[] {
  const names: string[] = (pod.spec?.containers ?? []).map((c: Obj) => c.name);
  if (f.allContainers) return [...(pod.spec?.initContainers ?? []).map((c: Obj) => c.name), ...names];
  if (f.container) {
    const all = [
      ...(pod.spec?.initContainers ?? []),
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.ephemeralContainers ?? []),
    ].map((c: Obj) => c.name);
    if (!all.includes(f.container))
      throw new KubeError(`container ${f.container} is not valid for pod ${pod.metadata.name}`);
    return [f.container];
  }
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  const chosen = annotated && names.includes(annotated) ? annotated : names[0];
  if (names.length > 1 && !f.selector) ctx.err(`Defaulted container "${chosen}" out of: ${names.join(', ')}\n`);
  return chosen ? [chosen] : [];
}

function stream(ctx: KubeContext, path: string, prefix: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let partial = '';
    const write = (text: string) => {
      if (!prefix) return ctx.out(text);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) ctx.out(`${prefix}${l}\n`);
    };
    const h = ctx.client.stream(
      path,
      (b) => write(b.toString('utf8')),
      (err) => {
        if (prefix && partial) ctx.out(`${prefix}${partial}\n`);
        if (err) reject(err);
        else resolve();
      },
    );
    void ctx.interrupted.then(() => {
      h.close();
      resolve();
    });
  });
}

export async function logs(ctx: KubeContext, target: string | undefined, f: LogsFlags): Promise<number> {
  if (f.tail !== undefined && !/^-?\d+$/.test(f.tail))
    throw new KubeError(
      `invalid argument "${f.tail}" for "--tail" flag: strconv.ParseInt: parsing "${f.tail}": invalid syntax`,
    );
  const pods = await podsFor(ctx, target, f);
  const jobs: Promise<void>[] = [];
  for (const pod of pods) {
    for (const c of containersOf(ctx, pod, f)) {
      const q = new URLSearchParams({ container: c });
      if (f.follow) q.set('follow', 'true');
      if (f.tail !== undefined && Number(f.tail) >= 0) q.set('tailLines', f.tail);
      if (f.previous) q.set('previous', 'true');
      if (f.timestamps) q.set('timestamps', 'true');
      const path = `${resourcePath(resourceType('pods'), f.namespace, pod.metadata.name, 'log')}?${q}`;
      const job = stream(ctx, path, f.prefix ? `[pod/${pod.metadata.name}/${c}] ` : '');
      if (f.follow) jobs.push(job);
      else await job;
    }
  }
  await Promise.all(jobs);
  return 0;
}
