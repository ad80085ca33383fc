import { planDeployment } from './deployment.js';
import { planStatefulSet } from './statefulset.js';
import { randomSuffix } from './hash.js';
import { canonicalJson, controllerRef, keyOf, type KubeObject } from './objects.js';
import {
  Expectations,
  inParallel,
  isConflict,
  isNotFound,
  podsIn,
  splitKey,
  type Ctx,
  type Runner,
} from './runtime.js';
import { WorkQueue, type SyncResult } from './work-queue.js';

/**
 * Runners for Deployments and StatefulSets: one queue key per object, fed
 * by its own changes and by changes to the pods it controls. A sync waits
 * until the pod cache shows its previous creates and deletes
 * (Expectations), then plans from the cache and writes the plan.
 */
const DEPLOYMENT = 'deployment-controller';
const STATEFULSET = 'statefulset-controller';

/** Pods are created in growing batches (1, 2, 4, ...), as upstream's slowStartBatch: a failing create stops early. */
async function createSlowStart(
  ctx: Ctx,
  pods: KubeObject[],
  onFail: (p: KubeObject, e: unknown) => void,
): Promise<void> {
  let i = 0;
  for (let batch = 1; i < pods.length; batch *= 2) {
    const chunk = pods.slice(i, i + batch);
    i += chunk.length;
    let failed = false;
    await Promise.all(
      chunk.map((p) =>
        ctx.client.create(p).catch((e) => {
          failed = true;
          onFail(p, e);
        }),
      ),
    );
    if (failed) {
      for (const p of pods.slice(i)) onFail(p, null);
      return;
    }
  }
}

async function deletePods(ctx: Ctx, pods: KubeObject[], onFail: (p: KubeObject, e: unknown) => void): Promise<void> {
  await inParallel(pods, 16, async (p) => {
    try {
      await ctx.client.delete('pods', p.metadata.namespace, p.metadata.name);
    } catch (e) {
      if (!isNotFound(e)) onFail(p, e);
    }
  });
}

async function writeStatus(ctx: Ctx, obj: KubeObject, status: Record<string, any>): Promise<void> {
  if (canonicalJson(status) === canonicalJson(obj.status ?? {})) return;
  await ctx.client.updateStatus({ ...obj, status });
}

function workloadRunner(
  ctx: Ctx,
  kind: 'Deployment' | 'StatefulSet',
  sync: (obj: KubeObject, exp: Expectations, key: string) => Promise<SyncResult>,
): Runner {
  const inf = kind === 'Deployment' ? ctx.inf.deployments : ctx.inf.statefulsets;
  const exp = new Expectations();
  const queue = new WorkQueue(
    kind === 'Deployment' ? 'deployment' : 'statefulset',
    async (key) => {
      const [ns, name] = splitKey(key);
      const obj = inf.get(ns, name);
      if (!obj) {
        exp.clear(key); // its pods are the garbage collector's
        return;
      }
      if (!exp.satisfied(key, (n) => ctx.inf.pods.get(ns, n), ctx.now())) return { requeueAfterMs: 1000 };
      return sync(obj, exp, key);
    },
    ctx.log,
  );
  const forPod = (p: KubeObject) => {
    const ref = controllerRef(p);
    if (ref?.kind === kind) queue.add(`${p.metadata.namespace}/${ref.name}`);
  };
  inf.on({
    added: (o) => queue.add(keyOf(o)),
    modified: (o) => queue.add(keyOf(o)),
    deleted: (o) => queue.add(keyOf(o)),
  });
  ctx.inf.pods.on({ added: forPod, modified: forPod, deleted: forPod });
  return {
    resync: () => {
      for (const o of inf.list()) queue.add(keyOf(o));
    },
    stop: () => queue.stop(),
  };
}

export function startDeployments(ctx: Ctx): Runner {
  return workloadRunner(ctx, 'Deployment', async (d, exp, key) => {
    let plan;
    try {
      plan = planDeployment(d, podsIn(ctx, d.metadata.namespace), { nowMs: ctx.now(), suffix: () => randomSuffix() });
    } catch (e) {
      ctx.log(`deployment ${key}: skipped, cannot plan it: ${(e as Error).message}`);
      return;
    }
    exp.expect(
      key,
      plan.create.map((p) => p.metadata.name),
      plan.delete.map((p) => p.metadata.name),
      ctx.now(),
    );
    let failed: unknown = null;
    const onFail = (p: KubeObject, e: unknown) => {
      exp.forget(key, p.metadata.name);
      if (e) {
        failed ??= e;
        ctx.log(`deployment ${key}: pod ${p.metadata.name}: ${(e as Error).message}`);
      }
    };
    await deletePods(ctx, plan.delete, onFail);
    await createSlowStart(ctx, plan.create, onFail);
    for (const ev of plan.events) ctx.events.record(d, ev.type, ev.reason, ev.message, DEPLOYMENT);
    if (failed) {
      ctx.events.record(d, 'Warning', 'FailedCreate', `Error creating: ${(failed as Error).message}`, DEPLOYMENT);
      throw failed;
    }
    await writeStatus(ctx, d, plan.status);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  });
}

export function startStatefulSets(ctx: Ctx): Runner {
  return workloadRunner(ctx, 'StatefulSet', async (sts, exp, key) => {
    let plan;
    try {
      plan = planStatefulSet(sts, podsIn(ctx, sts.metadata.namespace));
    } catch (e) {
      ctx.log(`statefulset ${key}: skipped, cannot plan it: ${(e as Error).message}`);
      return;
    }
    const created = new Set(plan.create.map((p) => p.metadata.name));
    // A pod deleted and recreated under the same name: wait for the new one only.
    exp.expect(
      key,
      [...created],
      plan.delete.map((p) => p.metadata.name).filter((n) => !created.has(n)),
      ctx.now(),
    );
    let failed: unknown = null;
    const failedNames = new Set<string>();
    const onFail = (p: KubeObject, e: unknown) => {
      exp.forget(key, p.metadata.name);
      failedNames.add(p.metadata.name);
      // AlreadyExists: the pod is there (the cache was behind); the next sync sees it.
      if (e && !isConflict(e)) failed ??= e;
    };
    // Deletions first: a failed pod is deleted and recreated under its name in one sync.
    await deletePods(ctx, plan.delete, onFail);
    await createSlowStart(ctx, plan.create, onFail);
    for (const ev of plan.events)
      if (!failedNames.has(/Pod (\S+)/.exec(ev.message)?.[1] ?? ''))
        ctx.events.record(sts, ev.type, ev.reason, ev.message, STATEFULSET);
    if (failed) {
      ctx.events.record(
        sts,
        'Warning',
        'FailedCreate',
        `create Pod failed error: ${(failed as Error).message}`,
        STATEFULSET,
      );
      throw failed;
    }
    await writeStatus(ctx, sts, plan.status);
  });
}
