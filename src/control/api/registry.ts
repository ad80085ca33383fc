import { randomUUID, randomBytes } from 'node:crypto';
import { StoreError, type KeyValue, type Store } from '../store/index.js';
import { parseSelector, matches, LabelError } from '../labels.js';
import { canonicalJson } from '../canonical-json.js';
import { isoTime } from '../time.js';
import { ApiError, errors, fromStoreError } from './status.js';
import { RESOURCE_TYPES, groupVersion, storageKey, storagePrefix, type ResourceType } from './resources.js';
import { validateObject, mergePatch } from './validate.js';
import { parseFieldSelector, fieldsMatch } from './fields.js';
import { applyDefaults } from './defaults.js';
import { strategicMergePatch } from './strategic-merge.js';
import { applyJsonPatch } from './json-patch.js';
import { checkDepth } from './limits.js';
import {
  resourceName,
  now,
  type DeletedStatus,
  type KubeList,
  type KubeObject,
  type Target,
  type WriteContext,
} from './object.js';
import { strategies, type Strategy, type StrategyOptions } from './strategies/index.js';

/** How long a watch from a resourceVersion waits for the store to answer before it is refused (503). */
const WATCH_STORE_CHECK_MS = 2_000;

/** Where a watch's events go (the HTTP layer turns them into lines of JSON). */
export interface WatchSink {
  /** the request is accepted: events follow */
  start(): void;
  event(type: string, object: unknown): void;
  /** the watch is over (its history expired, or the store failed) */
  end(): void;
  /** call `stop` when the client goes away */
  onClose(stop: () => void): void;
}

/**
 * The generic part of every resource, over the store (Kubernetes'
 * generic registry): get, list and watch with label and field selectors,
 * create, update (optimistic concurrency on resourceVersion), merge and
 * strategic-merge patch, delete with preconditions. What one kind does
 * differently is its strategy's (strategies/).
 */
export class Registry {
  private readonly strategyFor: (kind: string) => Strategy;

  constructor(
    readonly store: Store,
    opts: StrategyOptions = {},
  ) {
    this.strategyFor = strategies(store, opts);
  }

  /** The stored object with its resourceVersion (the store's revision). */
  withRv(kv: KeyValue): KubeObject {
    const o = JSON.parse(kv.value) as KubeObject;
    o.metadata = { ...o.metadata, resourceVersion: String(kv.modRevision) };
    return o;
  }

  private storeErr(e: unknown, t: Target, name: string): never {
    if (e instanceof StoreError) throw fromStoreError(e, resourceName(t.r), name, t.r.group || undefined);
    throw e;
  }

  async get(t: Target): Promise<KubeObject> {
    const kv = await this.store.get(storageKey(t.r, t.namespace, t.name!));
    if (!kv) throw errors.notFound(resourceName(t.r), t.name!, t.r.group || undefined);
    return this.withRv(kv);
  }

  async list(t: Target, q: URLSearchParams): Promise<KubeList> {
    const sel = selector(q);
    const fields = fieldSelector(t.r, q);
    const { items, revision } = await this.store.list(storagePrefix(t.r, t.namespace));
    return {
      kind: `${t.r.kind}List`,
      apiVersion: groupVersion(t.r),
      metadata: { resourceVersion: String(revision) },
      items: items
        .map((kv) => this.withRv(kv))
        .filter((o) => matches(sel, o.metadata?.labels) && fieldsMatch(fields, o)),
    };
  }

  private async requireNamespace(ns: string): Promise<void> {
    const nsType = RESOURCE_TYPES.find((r) => r.kind === 'Namespace')!;
    if (!(await this.store.get(storageKey(nsType, undefined, ns)))) throw errors.notFound('namespaces', ns);
  }

  /** Check a request body against the endpoint's kind and its whole schema. */
  validate(t: Target, body: unknown, ctx: WriteContext): KubeObject {
    return validateObject(t.r, checkTypeMeta(t, body), ctx.fv, ctx.warnings) as KubeObject;
  }

  async create(t: Target, body: unknown, ctx: WriteContext): Promise<KubeObject> {
    const given = this.validate(t, body, ctx);
    const gm = given.metadata;
    if (!gm.name) gm.name = `${gm.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    // Kubernetes' defaults (protocol: TCP, imagePullPolicy, strategy …), once the name is known
    const o = applyDefaults(t.r.kind, given) as KubeObject;
    const m = o.metadata;
    if (t.r.namespaced) {
      if (!t.namespace)
        throw errors.methodNotAllowed(
          `${t.r.plural} are namespaced: create them under /namespaces/{namespace}/${t.r.plural}`,
        );
      if (m.namespace && m.namespace !== t.namespace)
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      m.namespace = t.namespace;
      await this.requireNamespace(t.namespace!);
    }
    delete m.resourceVersion;
    m.uid = randomUUID();
    m.creationTimestamp = now();
    const s = this.strategyFor(t.r.kind);
    s.prepareForCreate?.(o);
    if (o.spec !== undefined) m.generation = 1;
    const write = async () => {
      const out = s.beforeWrite ? await s.beforeWrite(t, o, null) : o;
      ctx.admit?.(out);
      return this.insert(t, out, ctx.dryRun);
    };
    return s.turn ? s.turn(write) : write();
  }

  private async insert(t: Target, o: KubeObject, dryRun: boolean): Promise<KubeObject> {
    const m = o.metadata;
    if (dryRun) {
      if (await this.store.get(storageKey(t.r, t.namespace, m.name)))
        throw errors.alreadyExists(resourceName(t.r), m.name, t.r.group || undefined);
      return o;
    }
    try {
      const kv = await this.store.create(storageKey(t.r, t.namespace, m.name), JSON.stringify(o));
      return this.withRv(kv);
    } catch (e) {
      this.storeErr(e, t, m.name);
    }
  }

  /** PUT: the whole object; a resourceVersion in it must be current (Conflict otherwise). */
  async update(t: Target, body: unknown, ctx: WriteContext): Promise<KubeObject> {
    const o = this.validate(t, body, ctx);
    if (o.metadata.name !== t.name)
      throw errors.badRequest(
        `the name of the object (${o.metadata.name}) does not match the name on the URL (${t.name})`,
      );
    return this.replace(t, o, o.metadata.resourceVersion, ctx.dryRun, 'main', ctx.admit);
  }

  /** PATCH: a JSON merge patch, a strategic merge patch (lists merged by their keys), or a JSON patch (RFC 6902). */
  async patch(
    t: Target,
    body: unknown,
    ctx: WriteContext & { strategic?: boolean; json?: boolean },
  ): Promise<KubeObject> {
    const cur = await this.get(t);
    const patched = (
      ctx.json
        ? applyJsonPatch(cur, body)
        : ctx.strategic
          ? strategicMergePatch(t.r.kind, cur, body)
          : mergePatch(cur, body)
    ) as KubeObject;
    checkDepth(patched, 'the patched object');
    const o = validateObject(t.r, patched, ctx.fv, ctx.warnings) as KubeObject;
    return this.replace(
      t,
      o,
      (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion ?? cur.metadata.resourceVersion,
      ctx.dryRun,
      'main',
      ctx.admit,
    );
  }

  /**
   * `part`: 'main' writes everything but status (for kinds with a /status
   * subresource, status written there stays as it is, as in Kubernetes: an
   * `apply` never wipes what the agents reported); 'status' writes only status.
   */
  async replace(
    t: Target,
    o: KubeObject,
    rv: string | undefined,
    dryRun = false,
    part: 'main' | 'status' = 'main',
    admit?: (o: KubeObject) => void,
  ): Promise<KubeObject> {
    const s = this.strategyFor(t.r.kind);
    if (s.turn && part === 'main') return s.turn(() => this.replaceNow(t, s, o, rv, dryRun, part, admit));
    return this.replaceNow(t, s, o, rv, dryRun, part, admit);
  }

  private async replaceNow(
    t: Target,
    s: Strategy,
    o: KubeObject,
    rv: string | undefined,
    dryRun: boolean,
    part: 'main' | 'status',
    admit?: (o: KubeObject) => void,
  ): Promise<KubeObject> {
    const key = storageKey(t.r, t.namespace, t.name!);
    const kv = await this.store.get(key);
    if (!kv) throw errors.notFound(resourceName(t.r), t.name!, t.r.group || undefined);
    const cur = JSON.parse(kv.value) as KubeObject;
    if (rv !== undefined && rv !== String(kv.modRevision))
      throw errors.conflict(resourceName(t.r), t.name!, t.r.group || undefined);
    if (part === 'status') o = { ...cur, status: o.status };
    else {
      o = applyDefaults(t.r.kind, o) as KubeObject;
      const moved = s.validateUpdate?.(cur, o) ?? [];
      if (moved.length)
        throw errors.invalid(
          t.r.kind,
          t.name!,
          moved.map((c) => ({ ...c, reason: 'FieldValueInvalid' })),
          t.r.group || undefined,
        );
      if (s.beforeWrite) o = await s.beforeWrite(t, o, cur);
      admit?.(o);
      if (t.r.status) {
        if (cur.status === undefined) delete o.status;
        else o.status = cur.status;
      }
    }
    // What the server owns stays the server's.
    const generation =
      (cur.metadata.generation ?? (cur.spec !== undefined ? 1 : undefined))! +
      (part === 'main' && canonicalJson(o.spec) !== canonicalJson(cur.spec) ? 1 : 0);
    o.metadata = {
      ...(part === 'status' ? cur.metadata : o.metadata),
      uid: cur.metadata.uid,
      creationTimestamp: cur.metadata.creationTimestamp,
      namespace: cur.metadata.namespace,
    };
    if (Number.isInteger(generation)) o.metadata.generation = generation;
    else delete o.metadata.generation;
    delete o.metadata.resourceVersion;
    if (dryRun) return { ...o, metadata: { ...o.metadata, resourceVersion: String(kv.modRevision) } };
    try {
      return this.withRv(await this.store.update(key, JSON.stringify(o), kv.modRevision));
    } catch (e) {
      this.storeErr(e, t, t.name!);
    }
  }

  /**
   * DELETE. Preconditions (DeleteOptions.preconditions.uid) are checked. A
   * kind whose strategy gives a grace period (a Pod bound to a node) gets a
   * deletionTimestamp (now + grace) instead and stays until deleted with
   * grace 0.
   */
  async delete(
    t: Target,
    q: URLSearchParams = new URLSearchParams(),
    body?: unknown,
    attempt = 0,
  ): Promise<KubeObject | DeletedStatus> {
    const opts = (body ?? {}) as { gracePeriodSeconds?: unknown; preconditions?: { uid?: unknown }; dryRun?: unknown };
    const key = storageKey(t.r, t.namespace, t.name!);
    const kv = await this.store.get(key);
    if (!kv) throw errors.notFound(resourceName(t.r), t.name!, t.r.group || undefined);
    const cur = JSON.parse(kv.value) as KubeObject;
    const wantUid = opts.preconditions?.uid;
    if (typeof wantUid === 'string' && wantUid !== cur.metadata.uid) {
      throw new ApiError(
        'Conflict',
        `Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${cur.metadata.uid}`,
        { name: t.name, kind: t.r.plural },
      );
    }
    const s = this.strategyFor(t.r.kind);
    const grace = s.gracePeriodSeconds?.(cur, q, opts) ?? 0;
    // ?dryRun=All (kubectl delete --dry-run=server): every check made, nothing written
    // (kubectl sends it in the DeleteOptions body; ?dryRun=All in the query counts too)
    const dryRun = q.getAll('dryRun').includes('All') || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All'));
    if (grace > 0) {
      if (cur.metadata.deletionTimestamp) return this.withRv(kv); // already terminating
      cur.metadata.deletionTimestamp = isoTime(Date.now() + grace * 1000);
      cur.metadata.deletionGracePeriodSeconds = grace;
      if (dryRun) return { ...cur, metadata: { ...cur.metadata, resourceVersion: String(kv.modRevision) } };
      try {
        return this.withRv(await this.store.update(key, JSON.stringify(cur), kv.modRevision));
      } catch (e) {
        if (e instanceof StoreError && e.code === 'Conflict' && attempt < 5)
          return this.delete(t, q, body, attempt + 1);
        this.storeErr(e, t, t.name!);
      }
    }
    if (dryRun)
      return {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: cur.metadata.name, group: t.r.group, kind: t.r.plural, uid: cur.metadata.uid },
      };
    try {
      // (the revision we checked: a concurrent write means look again)
      const kv2 = await this.store.delete(key, kv.modRevision);
      const o = JSON.parse(kv2.value) as KubeObject;
      await s.afterDelete?.(t, o);
      return {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: o.metadata.name, group: t.r.group, kind: t.r.plural, uid: o.metadata.uid },
      };
    } catch (e) {
      if (e instanceof StoreError && e.code === 'Conflict' && attempt < 5) return this.delete(t, q, body, attempt + 1);
      this.storeErr(e, t, t.name!);
    }
  }

  /**
   * DELETE on a collection (deletecollection): every object the label and
   * field selectors match, each deleted as a DELETE of it would be (a bound
   * Pod gets its grace period). Answers, as kube-apiserver does, the list of
   * what was deleted — each as it was when deleted, a graceful one with its
   * deletionTimestamp. One that is gone meanwhile is left out.
   */
  async deleteCollection(t: Target, q: URLSearchParams, body?: unknown): Promise<KubeList> {
    const list = await this.list(t, q);
    const items: KubeObject[] = [];
    for (const o of list.items) {
      const one = { ...t, namespace: o.metadata.namespace ?? t.namespace, name: o.metadata.name };
      try {
        const out = await this.delete(one, q, body);
        items.push(out.kind === 'Status' ? o : (out as KubeObject));
      } catch (e) {
        if (e instanceof ApiError && e.reason === 'NotFound') continue;
        throw e;
      }
    }
    return { ...list, items };
  }

  /**
   * Watch: without resourceVersion (or "0"), first the current objects as
   * ADDED, then changes; with one, every change after it, or 410 Expired as
   * an ERROR event when that history is gone.
   */
  async watch(t: Target, q: URLSearchParams, sink: WatchSink): Promise<void> {
    const sel = selector(q);
    const fields = fieldSelector(t.r, q);
    let from = Number(q.get('resourceVersion') ?? '0');
    if (!Number.isInteger(from) || from < 0)
      throw errors.badRequest(`invalid resourceVersion "${q.get('resourceVersion')}"`);
    // Ask the store before the 200 goes out: a store that does not answer is a 503, not an empty stream.
    const initial = from === 0 ? await this.store.list(storagePrefix(t.r, t.namespace)) : null;
    if (!initial) await this.store.health(WATCH_STORE_CHECK_MS);
    sink.start();
    if (initial) {
      const { items, revision } = initial;
      for (const kv of items) {
        const o = this.withRv(kv);
        if (matches(sel, o.metadata?.labels) && fieldsMatch(fields, o)) sink.event('ADDED', o);
      }
      from = revision;
    }
    try {
      const w = await this.store.watch(
        storagePrefix(t.r, t.namespace),
        from,
        (e) => {
          const o = JSON.parse(e.value) as KubeObject;
          o.metadata = { ...o.metadata, resourceVersion: String(e.revision) };
          if (matches(sel, o.metadata?.labels) && fieldsMatch(fields, o)) sink.event(e.type, o);
        },
        (err) => {
          sink.event('ERROR', fromStoreError(err, resourceName(t.r), '').toStatus());
          sink.end();
        },
      );
      sink.onClose(() => w.close());
    } catch (err) {
      if (err instanceof StoreError) {
        sink.event('ERROR', fromStoreError(err, resourceName(t.r), '').toStatus());
        sink.end();
        return;
      }
      throw err;
    }
  }
}

function selector(q: URLSearchParams) {
  try {
    return parseSelector(q.get('labelSelector') ?? '');
  } catch (e) {
    throw errors.badRequest((e as LabelError).message);
  }
}

function fieldSelector(r: ResourceType, q: URLSearchParams) {
  return parseFieldSelector(r.kind, q.get('fieldSelector') ?? '');
}

function checkTypeMeta(t: Target, body: unknown): unknown {
  const b = body as { apiVersion?: unknown; kind?: unknown } | null;
  if (!b || typeof b !== 'object' || Array.isArray(b))
    throw errors.badRequest('the request body must be a JSON object');
  if (b.kind !== t.r.kind || b.apiVersion !== groupVersion(t.r)) {
    throw errors.badRequest(
      `the object is a ${String(b.apiVersion)}/${String(b.kind)}, but this is the ${groupVersion(t.r)} ${t.r.plural} endpoint`,
    );
  }
  return body;
}
