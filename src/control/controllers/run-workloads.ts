import { planDeployment } from './deployment.js';
import { planReplicaSet } from './replicaset.js';
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
 * Runners for Deployments, ReplicaSets and StatefulSets: one queue key per
 * object, fed by its own changes and by changes to what it controls
 * (ReplicaSets and pods). A sync waits until the cache shows its previous
 * creates and deletes (Expectations), then plans from the cache and writes
 * the plan.
 */
const DEPLOYMENT = 'deployment-controller';
const REPLICASET = 'replicaset-controller';
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
  kind: 'Deployment' | 'ReplicaSet' | 'StatefulSet',
  sync: (obj: KubeObject, exp: Expectations, key: string) => Promise<SyncResult>,
): Runner {
  const inf =
    kind === 'Deployment' ? ctx.inf.deployments : kind === 'ReplicaSet' ? ctx.inf.replicasets : ctx.inf.statefulsets;
  // what a sync creates and waits to see: a Deployment's ReplicaSets, the others' pods
  const made = kind === 'Deployment' ? ctx.inf.replicasets : ctx.inf.pods;
  const exp = new Expectations();
  const queue = new WorkQueue(
    kind.toLowerCase(),
    async (key) => {
      const [ns, name] = splitKey(key);
      const obj = inf.get(ns, name);
      if (!obj) {
        exp.clear(key); // what it made is the garbage collector's
        return;
      }
      if (!exp.satisfied(key, (n) => made.get(ns, n), ctx.now())) return { requeueAfterMs: 1000 };
      return sync(obj, exp, key);
    },
    ctx.log,
  );
  const forPod = (p: KubeObject) => {
    let ref = controllerRef(p);
    // a Deployment hears of its pods through their ReplicaSet (Recreate waits for the old ones to go)
    if (kind === 'Deployment' && ref?.kind === 'ReplicaSet') {
      const rs = ctx.inf.replicasets.get(p.metadata.namespace, ref.name);
      ref = rs ? controllerRef(rs) : undefined;
    }
    if (ref?.kind === kind) queue.add(`${p.metadata.namespace}/${ref.name}`);
  };
  if (kind === 'Deployment') ctx.inf.replicasets.on({ added: forPod, modified: forPod, deleted: forPod });
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
    const ns = d.metadata.namespace;
    try {
      plan = planDeployment(d, {
        replicaSets: ctx.usable(ctx.inf.replicasets).filter((rs) => rs.metadata.namespace === ns),
        pods: podsIn(ctx, ns),
        nowMs: ctx.now(),
      });
    } catch (e) {
      ctx.log(`deployment ${key}: skipped, cannot plan it: ${(e as Error).message}`);
      return;
    }
    exp.expect(
      key,
      plan.create.map((rs) => rs.metadata.name),
      plan.delete.map((rs) => rs.metadata.name),
      ctx.now(),
    );
    let failed: unknown = null;
    const fail = (rs: KubeObject, e: unknown) => {
      exp.forget(key, rs.metadata.name);
      if (isConflict(e)) return; // the cache was behind: the next sync sees the newer object
      failed ??= e;
      ctx.log(`deployment ${key}: replicaset ${rs.metadata.name}: ${(e as Error).message}`);
    };
    for (const rs of plan.create) await ctx.client.create(rs).catch((e) => fail(rs, e));
    await inParallel(plan.update, 8, (rs) =>
      ctx.client.update(rs).then(
        () => undefined,
        (e) => fail(rs, e),
      ),
    );
    await inParallel(plan.delete, 8, (rs) =>
      ctx.client.delete('replicasets', ns, rs.metadata.name).then(
        () => undefined,
        (e) => (isNotFound(e) ? undefined : fail(rs, e)),
      ),
    );
    for (const ev of plan.events) ctx.events.record(d, ev.type, ev.reason, ev.message, DEPLOYMENT);
    if (failed) {
      ctx.events.record(
        d,
        'Warning',
        'ReplicaSetCreateError',
        `Failed to create new replica set: ${(failed as Error).message}`,
        DEPLOYMENT,
      );
      throw failed;
    }
    let cur = d;
    if (plan.annotations) {
      try {
        cur = await ctx.client.update({ ...d, metadata: { ...d.metadata, annotations: plan.annotations } });
      } catch (e) {
        if (isConflict(e)) return { requeueAfterMs: 200 };
        throw e;
      }
    }
    try {
      await writeStatus(ctx, cur, plan.status);
    } catch (e) {
      if (isConflict(e)) return { requeueAfterMs: 200 };
      throw e;
    }
  });
}

export function startReplicaSets(ctx: Ctx): Runner {
  return workloadRunner(ctx, 'ReplicaSet', async (rs, exp, key) => {
    let plan;
    try {
      plan = planReplicaSet(rs, podsIn(ctx, rs.metadata.namespace), { nowMs: ctx.now(), suffix: () => randomSuffix() });
    } catch (e) {
      ctx.log(`replicaset ${key}: skipped, cannot plan it: ${(e as Error).message}`);
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
        ctx.log(`replicaset ${key}: pod ${p.metadata.name}: ${(e as Error).message}`);
      }
    };
    await deletePods(ctx, plan.delete, onFail);
    await createSlowStart(ctx, plan.create, onFail);
    for (const ev of plan.events) ctx.events.record(rs, ev.type, ev.reason, ev.message, REPLICASET);
    if (failed) {
      ctx.events.record(rs, 'Warning', 'FailedCreate', `Error creating: ${(failed as Error).message}`, REPLICASET);
      throw failed;
    }
    try {
      await writeStatus(ctx, rs, plan.status);
    } catch (e) {
      if (isConflict(e)) return { requeueAfterMs: 200 };
      throw e;
    }
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
