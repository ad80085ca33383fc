import { desiredEndpoints, isManagedService, sameEndpoints, selectsPod } from './endpoints.js';
import {
  isSliceOf,
  planEndpointSlices,
  MANAGED_BY_LABEL,
  CONTROLLER_NAME,
  SERVICE_NAME_LABEL,
} from './endpoint-slices.js';
import { randomSuffix } from './hash.js';
import { canonicalJson, keyOf, type KubeObject } from './objects.js';
import { Expectations, inParallel, isNotFound, podsIn, splitKey, type Ctx, type Runner } from './runtime.js';
import { WorkQueue } from './work-queue.js';

/**
 * The Endpoints and EndpointSlice controllers' runner: one queue key per
 * Service, fed by the Service, by pods its selector matches (before or
 * after a change), and by its Endpoints and slices (someone else's edit is
 * put right). Writes happen only when the content differs.
 */
export function startEndpoints(ctx: Ctx): Runner {
  const exp = new Expectations(); // slices created, not yet in the cache
  const slices = sliceIndex(ctx);
  const queue = new WorkQueue(
    'endpoints',
    async (key) => {
      const [ns, name] = splitKey(key);
      const svc = ctx.inf.services.get(ns, name) ?? null;
      const pods = svc ? podsIn(ctx, ns) : [];

      // Endpoints
      const cur = ctx.inf.endpoints.get(ns, name);
      if (!svc) {
        if (cur)
          await ctx.client.delete('endpoints', ns, name).catch((e) => {
            if (!isNotFound(e)) throw e;
          });
      } else {
        const want = desiredEndpoints(svc, pods);
        if (want && !sameEndpoints(cur, want)) {
          if (!cur) await ctx.client.create(want);
          else {
            const next: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { ...cur.metadata } };
            if (want.metadata.labels) next.metadata.labels = want.metadata.labels;
            else delete next.metadata.labels;
            if (want.subsets) next.subsets = want.subsets;
            await ctx.client.update(next);
          }
        }
      }

      // EndpointSlices
      if (!exp.satisfied(key, (n) => ctx.inf.slices.get(ns, n), ctx.now())) return { requeueAfterMs: 500 };
      const existing = slices.of(ns, name).filter((s) => isSliceOf(s, ns, name));
      const plan = planEndpointSlices(svc, pods, existing, () => randomSuffix());
      exp.expect(
        key,
        plan.create.map((s) => s.metadata.name),
        [],
        ctx.now(),
      );
      await inParallel(plan.delete, 8, async (s) => {
        await ctx.client.delete('endpointslices', ns, s.metadata.name).catch((e) => {
          if (!isNotFound(e)) throw e;
        });
      });
      await inParallel(plan.update, 8, async (s) => {
        await ctx.client.update(s);
      });
      await inParallel(plan.create, 8, async (s) => {
        try {
          await ctx.client.create(s);
        } catch (e) {
          exp.forget(key, s.metadata.name);
          throw e;
        }
      });
    },
    ctx.log,
  );

  const forPod = (p: KubeObject, old?: KubeObject) => {
    for (const svc of ctx.inf.services.list()) {
      if (selectsPod(svc, p) || (old && selectsPod(svc, old))) queue.add(keyOf(svc));
    }
  };
  ctx.inf.services.on({
    added: (s) => queue.add(keyOf(s)),
    modified: (s, old) =>
      canonicalJson([s.spec, s.metadata.labels]) !== canonicalJson([old.spec, old.metadata.labels]) &&
      queue.add(keyOf(s)),
    deleted: (s) => queue.add(keyOf(s)),
  });
  ctx.inf.pods.on({
    added: (p) => forPod(p),
    // Only what Endpoints show: labels, IP, node, readiness, phase, deletion.
    modified: (p, old) => {
      const shape = (x: KubeObject) =>
        canonicalJson([
          x.metadata.labels,
          x.metadata.deletionTimestamp,
          x.spec?.nodeName,
          x.spec?.hostname,
          x.spec?.subdomain,
          x.status?.podIP,
          x.status?.phase,
          x.status?.conditions?.find?.((c: { type: string }) => c.type === 'Ready')?.status,
        ]);
      if (shape(p) !== shape(old)) forPod(p, old);
    },
    deleted: (p) => forPod(p),
  });
  const forEndpoints = (e: KubeObject) => {
    const svc = ctx.inf.services.get(e.metadata.namespace, e.metadata.name);
    if (!svc || isManagedService(svc)) queue.add(keyOf(e));
  };
  ctx.inf.endpoints.on({ modified: forEndpoints, deleted: forEndpoints });
  const forSlice = (s: KubeObject) => {
    const l = s.metadata.labels ?? {};
    if (l[MANAGED_BY_LABEL] === CONTROLLER_NAME && l[SERVICE_NAME_LABEL])
      queue.add(`${s.metadata.namespace}/${l[SERVICE_NAME_LABEL]}`);
  };
  ctx.inf.slices.on({ added: forSlice, modified: forSlice, deleted: forSlice });

  return {
    resync: () => {
      for (const s of ctx.inf.services.list()) queue.add(keyOf(s));
      // Leftovers of Services deleted while no controller ran.
      for (const e of ctx.inf.endpoints.list())
        if (!ctx.inf.services.get(e.metadata.namespace, e.metadata.name)) queue.add(keyOf(e));
      for (const s of ctx.inf.slices.list()) forSlice(s);
    },
    stop: () => queue.stop(),
  };
}

/**
 * The slices labelled for each Service ("ns/service" → slice names), kept
 * from the slice informer's events: a sync looks up its Service's slices
 * instead of scanning every slice of the cluster (at 10,000 Services that
 * scan was most of the controller's time).
 */
function sliceIndex(ctx: Ctx): { of(ns: string, service: string): KubeObject[] } {
  const names = new Map<string, Set<string>>();
  const keyOf = (s: KubeObject): string | null => {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    return typeof svc === 'string' && svc ? `${s.metadata.namespace}/${svc}` : null;
  };
  const put = (s: KubeObject) => {
    const k = keyOf(s);
    if (k === null) return;
    let set = names.get(k);
    if (!set) names.set(k, (set = new Set()));
    set.add(s.metadata.name);
  };
  const drop = (s: KubeObject) => {
    const k = keyOf(s);
    const set = k === null ? undefined : names.get(k);
    set?.delete(s.metadata.name);
    if (set?.size === 0) names.delete(k!);
  };
  for (const s of ctx.inf.slices.list()) put(s);
  ctx.inf.slices.on({
    added: put,
    modified: (s, old) => {
      drop(old);
      put(s);
    },
    deleted: drop,
  });
  return {
    of: (ns, service) =>
      [...(names.get(`${ns}/${service}`) ?? [])]
        .map((n) => ctx.inf.slices.get(ns, n))
        .filter((s): s is KubeObject => s !== undefined),
  };
}
