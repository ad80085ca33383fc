import fs from 'node:fs';
import http from 'node:http';
import { randomUUID, randomBytes } from 'node:crypto';
import { StoreError, type KeyValue, type Store } from '../store/index.js';
import { parseSelector, matches, LabelError } from '../labels.js';
import { ApiError, errors, fromStoreError } from './status.js';
import {
  RESOURCE_TYPES,
  groupVersion,
  storageKey,
  storagePrefix,
  apiVersions,
  apiGroupList,
  apiResourceList,
  type ResourceType,
} from './resources.js';
import { SCHEMAS, validateObject, mergePatch, type FieldValidation } from './validate.js';
import { parseFieldSelector, fieldsMatch } from './fields.js';
import { proxyPodLog } from './pod-log.js';
import { wantsTable, toTable } from './table.js';
import { applyDefaults } from './defaults.js';
import { canonicalJson } from '../canonical-json.js';
import { strategicMergePatch } from './strategic-merge.js';
import {
  ServiceAllocations,
  allocateServiceAddresses,
  keepServiceAllocations,
  type ServiceAllocConfig,
} from './service-alloc.js';
import { isoTime } from '../time.js';
import { gatewayTransitionCauses } from './schemas/gateway-class.js';

/** Addressing defaults (DESIGN.md): service CIDR and NodePort range. */
export const SERVICE_ALLOC: ServiceAllocConfig = { serviceCidr: '10.96.0.0/12', nodePortRange: [30000, 32767] };

/**
 * podwire's Kubernetes-style API server: REST on /api/v1 and
 * /apis/<group>/<version>, list (label selectors), get, create, update
 * (optimistic concurrency on resourceVersion), merge patch, delete, and
 * watch from a resourceVersion, errors as Status objects. It serves only the
 * kinds whose whole schema it validates (see validate.ts); discovery lists
 * exactly those.
 */
export const SERVED = RESOURCE_TYPES.filter((r) => SCHEMAS[r.kind]);

interface Target {
  r: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public'];

export class ApiServer {
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly store: Store) {}

  /** Create the namespaces every cluster has. */
  async bootstrap(): Promise<void> {
    const ns = RESOURCE_TYPES.find((r) => r.kind === 'Namespace')!;
    for (const name of SYSTEM_NAMESPACES) {
      const key = storageKey(ns, undefined, name);
      if (!(await this.store.get(key))) {
        const obj = {
          apiVersion: 'v1',
          kind: 'Namespace',
          metadata: { name, uid: randomUUID(), creationTimestamp: now() },
          spec: { finalizers: ['kubernetes'] },
          status: { phase: 'Active' },
        };
        await this.store.create(key, JSON.stringify(obj)).catch((e) => {
          if (!(e instanceof StoreError && e.code === 'AlreadyExists')) throw e;
        });
      }
    }
  }

  private readonly servers: http.Server[] = [];

  /**
   * Streaming subresources (pods/exec, attach, portforward) arrive as HTTP
   * upgrades (WebSocket, or SPDY/3.1 from older clients), which node:http
   * hands to 'upgrade' listeners, never to the request handler. Whoever
   * serves them registers here; without one an upgrade is answered 404.
   */
  onUpgrade?: (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer, store: Store) => void;

  private newServer(): http.Server {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket, head) => {
      if (this.onUpgrade) return this.onUpgrade(req, socket, head, this.store);
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.servers.push(server);
    return server;
  }

  listen(port: number, host = '127.0.0.1'): Promise<{ url: string; port: number }> {
    const server = this.newServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address() as import('node:net').AddressInfo;
        resolve({ url: `http://${host}:${a.port}`, port: a.port });
      });
    });
  }

  /** Also (or only) on a Unix socket; returns the `unix:` address ApiClient takes. */
  listenUnix(socketPath: string): Promise<string> {
    const server = this.newServer();
    try {
      fs.unlinkSync(socketPath); // a socket file left by a killed server
    } catch {
      /* none */
    }
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve(`unix:${socketPath}`));
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const p = url.pathname.replace(/\/+$/, '') || '/';
      if (p === '/healthz' || p === '/livez' || p === '/readyz') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return void res.end('ok');
      }
      if (p === '/version')
        return send(200, {
          major: '1',
          minor: '30',
          gitVersion: 'v1.30.0-podwire',
          platform: `${process.platform}/${process.arch}`,
        });
      if (p === '/api') return send(200, apiVersions());
      if (p === '/openapi/v3') return send(200, openapiIndex());
      const oa = /^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/.exec(p);
      if (oa) {
        const doc = openapiDoc(oa[1]);
        if (!doc) throw new ApiError('NotFound', 'the server could not find the requested resource');
        return send(200, doc);
      }
      if (p === '/apis') return send(200, apiGroupList(SERVED));
      const gv = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))$/.exec(p);
      if (gv) {
        // /status subresources are served (see subresource())
        const list = apiResourceList(gv[1] ? `${gv[1]}/${gv[2]}` : 'v1', SERVED, true);
        if (!list) throw new ApiError('NotFound', 'the server could not find the requested resource');
        return send(200, list);
      }
      const target = parseTarget(p);
      if (!target) throw new ApiError('NotFound', 'the server could not find the requested resource');
      const body = req.method === 'GET' ? undefined : await readJson(req);
      const fv = url.searchParams.get('fieldValidation') ?? 'Strict';
      if (!['Strict', 'Warn', 'Ignore'].includes(fv))
        throw errors.badRequest(`fieldValidation must be Strict, Warn or Ignore (got "${fv}")`);
      const warnings: string[] = [];
      const dryRun = url.searchParams.getAll('dryRun');
      if (dryRun.some((d) => d !== 'All')) throw errors.badRequest('dryRun must be "All"');
      const ctx = { fv: fv as FieldValidation, warnings, dryRun: dryRun.length > 0 };
      const sendW = (code: number, out: unknown) => {
        if (warnings.length)
          res.setHeader('Warning', warnings.map((w) => `299 - "${w.replace(/"/g, "'")}"`).join(', '));
        send(code, out);
      };
      if (target.sub) return await this.subresource(target, req, res, url, body, ctx, sendW);
      switch (req.method) {
        case 'GET': {
          const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
          const table =
            !watching && wantsTable(req.headers.accept)
              ? (items: Record<string, any>[], rv: string) => toTable(target.r.kind, items, rv)
              : null;
          if (target.name) {
            const o = await this.get(target);
            return send(200, table?.([o], o.metadata.resourceVersion) ?? o);
          }
          if (watching) return await this.watch(target, url.searchParams, res);
          const list = await this.list(target, url.searchParams);
          return send(200, table?.(list.items, list.metadata.resourceVersion) ?? list);
        }
        case 'POST':
          if (target.name) throw errors.methodNotAllowed('POST to a named object: use PUT or PATCH');
          return sendW(201, await this.create(target, body, ctx));
        case 'PUT':
          if (!target.name) throw errors.methodNotAllowed('PUT needs an object name');
          return sendW(200, await this.update(target, body, ctx));
        case 'PATCH': {
          if (!target.name) throw errors.methodNotAllowed('PATCH needs an object name');
          const ct = (req.headers['content-type'] ?? '').split(';')[0];
          if (ct !== 'application/merge-patch+json' && ct !== 'application/strategic-merge-patch+json') {
            throw new ApiError(
              'UnsupportedMediaType',
              `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (got ${ct || 'none'})`,
            );
          }
          return sendW(
            200,
            await this.patch(target, body, { ...ctx, strategic: ct === 'application/strategic-merge-patch+json' }),
          );
        }
        case 'DELETE':
          if (!target.name) throw errors.methodNotAllowed('deleting a collection is not supported');
          return send(200, await this.delete(target, url.searchParams, body));
        default:
          throw errors.methodNotAllowed(`method ${req.method} is not supported`);
      }
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('InternalError', (err as Error).message);
      if (!res.headersSent) send(e.code, e.toStatus());
      else res.end();
    }
  }

  private withRv(kv: KeyValue): Record<string, any> {
    const o = JSON.parse(kv.value) as Record<string, any>;
    o.metadata = { ...o.metadata, resourceVersion: String(kv.modRevision) };
    return o;
  }

  private storeErr(e: unknown, t: Target, name: string): never {
    if (e instanceof StoreError) throw fromStoreError(e, resourceName(t.r), name, t.r.group || undefined);
    throw e;
  }

  private async get(t: Target): Promise<Record<string, any>> {
    const kv = await this.store.get(storageKey(t.r, t.namespace, t.name!));
    if (!kv) throw errors.notFound(resourceName(t.r), t.name!, t.r.group || undefined);
    return this.withRv(kv);
  }

  private async list(t: Target, q: URLSearchParams): Promise<Record<string, any>> {
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

  private async create(t: Target, body: unknown, ctx: Ctx): Promise<Record<string, any>> {
    const given = validateObject(t.r, checkTypeMeta(t, body), ctx.fv, ctx.warnings);
    const gm = given.metadata;
    if (!gm.name) gm.name = `${gm.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    // Kubernetes' defaults (protocol: TCP, imagePullPolicy, strategy …), once the name is known
    const o = applyDefaults(t.r.kind, given);
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
    if (t.r.kind === 'Namespace') o.status = { phase: 'Active' };
    initialStatus(t.r.kind, o);
    if (o.spec !== undefined) m.generation = 1;
    if (t.r.kind === 'Service')
      return this.serialized(async () => this.store_(t, await this.allocate(t, o, null), ctx.dryRun));
    return this.store_(t, o, ctx.dryRun);
  }

  /** Cluster IPs and node ports come from one pool: Service writes take turns. */
  private serviceTurn: Promise<unknown> = Promise.resolve();
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.serviceTurn.then(fn, fn);
    this.serviceTurn = next.catch(() => {});
    return next;
  }

  private async allocate(
    t: Target,
    o: Record<string, any>,
    cur: Record<string, any> | null,
  ): Promise<Record<string, any>> {
    const { items } = await this.store.list(storagePrefix(t.r));
    const seen = this.allocSeen;
    for (const kv of items) {
      const had = seen.get(kv.key);
      if (had?.rev === kv.modRevision) continue;
      if (had) this.allocations.remove(had.svc);
      const svc = JSON.parse(kv.value) as Record<string, any>;
      this.allocations.add(svc);
      seen.set(kv.key, { rev: kv.modRevision, svc });
    }
    if (seen.size > items.length) {
      const live = new Set(items.map((kv) => kv.key));
      for (const [k, had] of seen) {
        if (live.has(k)) continue;
        this.allocations.remove(had.svc);
        seen.delete(k);
      }
    }
    return allocateServiceAddresses(cur ? keepServiceAllocations(o, cur) : o, this.allocations, SERVICE_ALLOC);
  }

  /**
   * Which Service holds which cluster IP and node port, brought up to date
   * from the store's list on every Service write: the store stays the truth
   * (a write made elsewhere shows up as a new revision), but each Service
   * is parsed once per revision, and allocation asks the index instead of
   * walking every Service. Before, a create at 10,000 Services parsed and
   * walked all 10,000 (~15 ms each: 10,000 creates took over 3 minutes).
   */
  private readonly allocations = new ServiceAllocations();
  private readonly allocSeen = new Map<string, { rev: number; svc: Record<string, any> }>();

  private async store_(t: Target, o: Record<string, any>, dryRun: boolean): Promise<Record<string, any>> {
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
  private async update(t: Target, body: unknown, ctx: Ctx): Promise<Record<string, any>> {
    const o = validateObject(t.r, checkTypeMeta(t, body), ctx.fv, ctx.warnings);
    if (o.metadata.name !== t.name)
      throw errors.badRequest(
        `the name of the object (${o.metadata.name}) does not match the name on the URL (${t.name})`,
      );
    return this.replace(t, o, o.metadata.resourceVersion, ctx.dryRun);
  }

  private async patch(t: Target, body: unknown, ctx: Ctx & { strategic?: boolean }): Promise<Record<string, any>> {
    const cur = await this.get(t);
    const patched = (ctx.strategic ? strategicMergePatch(t.r.kind, cur, body) : mergePatch(cur, body)) as Record<
      string,
      any
    >;
    const o = validateObject(t.r, patched, ctx.fv, ctx.warnings);
    return this.replace(
      t,
      o,
      (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion ?? cur.metadata.resourceVersion,
      ctx.dryRun,
    );
  }

  /**
   * `part`: 'main' writes everything but status (for kinds with a /status
   * subresource, status written there stays as it is, as in Kubernetes: an
   * `apply` never wipes what the agents reported); 'status' writes only status.
   */
  private async replace(
    t: Target,
    o: Record<string, any>,
    rv: string | undefined,
    dryRun = false,
    part: 'main' | 'status' = 'main',
  ): Promise<Record<string, any>> {
    if (t.r.kind === 'Service' && part === 'main')
      return this.serialized(() => this.replaceNow(t, o, rv, dryRun, part));
    return this.replaceNow(t, o, rv, dryRun, part);
  }

  private async replaceNow(
    t: Target,
    o: Record<string, any>,
    rv: string | undefined,
    dryRun: boolean,
    part: 'main' | 'status',
  ): Promise<Record<string, any>> {
    const key = storageKey(t.r, t.namespace, t.name!);
    const kv = await this.store.get(key);
    if (!kv) throw errors.notFound(resourceName(t.r), t.name!, t.r.group || undefined);
    const cur = JSON.parse(kv.value) as Record<string, any>;
    if (rv !== undefined && rv !== String(kv.modRevision))
      throw errors.conflict(resourceName(t.r), t.name!, t.r.group || undefined);
    if (part === 'status') o = { ...cur, status: o.status };
    else {
      o = applyDefaults(t.r.kind, o);
      // CRD transition rules (CEL with oldSelf): GatewayClass spec.controllerName is immutable
      const moved = gatewayTransitionCauses(t.r.kind, cur, o);
      if (moved.length)
        throw errors.invalid(
          t.r.kind,
          t.name!,
          moved.map((c) => ({ ...c, reason: 'FieldValueInvalid' })),
          t.r.group || undefined,
        );
      if (t.r.kind === 'Service') o = await this.allocate(t, o, cur);
      if (t.r.status) {
        if (cur.status === undefined) delete o.status;
        else o.status = cur.status;
      }
    }
    // What the server owns stays the server's.
    const generation =
      (cur.metadata.generation ?? (cur.spec !== undefined ? 1 : undefined)) +
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
   * Pod bound to a node is deleted gracefully, as in Kubernetes: it gets a
   * deletionTimestamp (now + grace period: ?gracePeriodSeconds, the body's
   * gracePeriodSeconds, else the pod's terminationGracePeriodSeconds) and
   * shows as Terminating until its agent has stopped its containers and
   * deletes it with grace 0. Grace 0 deletes at once (kubectl delete --force
   * --grace-period=0, for a pod whose node is gone).
   */
  private async delete(
    t: Target,
    q: URLSearchParams = new URLSearchParams(),
    body?: unknown,
    attempt = 0,
  ): Promise<Record<string, any>> {
    const opts = (body ?? {}) as { gracePeriodSeconds?: unknown; preconditions?: { uid?: unknown } };
    const key = storageKey(t.r, t.namespace, t.name!);
    const kv = await this.store.get(key);
    if (!kv) throw errors.notFound(resourceName(t.r), t.name!, t.r.group || undefined);
    const cur = JSON.parse(kv.value) as Record<string, any>;
    const wantUid = opts.preconditions?.uid;
    if (typeof wantUid === 'string' && wantUid !== cur.metadata.uid) {
      throw new ApiError(
        'Conflict',
        `Precondition failed: UID in precondition: ${wantUid}, UID in object meta: ${cur.metadata.uid}`,
        { name: t.name, kind: t.r.plural },
      );
    }
    if (t.r.kind === 'Pod' && cur.spec?.nodeName) {
      const raw = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
      const grace = raw === undefined || raw === null ? (cur.spec.terminationGracePeriodSeconds ?? 30) : Number(raw);
      if (!Number.isInteger(grace) || grace < 0)
        throw errors.badRequest(`gracePeriodSeconds must be a whole number of seconds ≥ 0 (got ${String(raw)})`);
      if (grace > 0) {
        if (cur.metadata.deletionTimestamp) return this.withRv(kv); // already terminating
        cur.metadata.deletionTimestamp = isoTime(Date.now() + grace * 1000);
        cur.metadata.deletionGracePeriodSeconds = grace;
        try {
          return this.withRv(await this.store.update(key, JSON.stringify(cur), kv.modRevision));
        } catch (e) {
          if (e instanceof StoreError && e.code === 'Conflict' && attempt < 5)
            return this.delete(t, q, body, attempt + 1);
          this.storeErr(e, t, t.name!);
        }
      }
    }
    try {
      // (the revision we checked: a concurrent write means look again)
      const kv2 = await this.store.delete(key, kv.modRevision);
      if (t.r.kind === 'Namespace') {
        // A namespace takes everything in it along.
        for (const r of SERVED.filter((x) => x.namespaced)) {
          for (const item of (await this.store.list(storagePrefix(r, t.name))).items)
            await this.store.delete(item.key).catch(() => {});
        }
      }
      const o = JSON.parse(kv2.value);
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

  /** /status (GET, PUT, PATCH), pods/binding (POST), pods/log (GET, proxied to the node's agent). */
  private async subresource(
    t: Target,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    body: unknown,
    ctx: Ctx,
    sendW: (code: number, out: unknown) => void,
  ): Promise<void> {
    const base = { ...t, sub: undefined };
    if (t.sub === 'status' && t.r.status) {
      if (req.method === 'GET') return sendW(200, await this.get(base));
      if (req.method === 'PUT') {
        const o = validateObject(t.r, checkTypeMeta(t, body), ctx.fv, ctx.warnings);
        if (o.metadata.name !== t.name)
          throw errors.badRequest(
            `the name of the object (${o.metadata.name}) does not match the name on the URL (${t.name})`,
          );
        return sendW(200, await this.replace(base, o, o.metadata.resourceVersion, ctx.dryRun, 'status'));
      }
      if (req.method === 'PATCH') {
        const cur = await this.get(base);
        const strategic = (req.headers['content-type'] ?? '').startsWith('application/strategic-merge-patch+json');
        const o = validateObject(
          t.r,
          strategic ? strategicMergePatch(t.r.kind, cur, body) : mergePatch(cur, body),
          ctx.fv,
          ctx.warnings,
        );
        const rv =
          (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion ??
          cur.metadata.resourceVersion;
        return sendW(200, await this.replace(base, o, rv, ctx.dryRun, 'status'));
      }
      throw errors.methodNotAllowed(`${req.method} is not supported on ${t.r.plural}/status`);
    }
    if (t.sub === 'scale' && (t.r.kind === 'Deployment' || t.r.kind === 'StatefulSet'))
      return sendW(200, await this.scale(base, req.method ?? 'GET', body, ctx));
    if (t.sub === 'binding' && t.r.kind === 'Pod' && req.method === 'POST') {
      const node = (body as { target?: { name?: unknown } })?.target?.name;
      if (typeof node !== 'string' || !node) throw errors.badRequest('a Binding needs target.name (the node)');
      for (let attempt = 0; ; attempt++) {
        const cur = await this.get(base);
        if (cur.spec?.nodeName) throw errors.conflict(resourceName(t.r), t.name!);
        try {
          const bound = await this.replace(
            base,
            { ...cur, spec: { ...cur.spec, nodeName: node } },
            cur.metadata.resourceVersion,
            ctx.dryRun,
          );
          if (!ctx.dryRun) {
            // as upstream's binding: the pod is now Scheduled
            const conds = (bound.status?.conditions ?? []).filter((c: { type: string }) => c.type !== 'PodScheduled');
            conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() });
            await this.replace(
              base,
              { ...bound, status: { ...bound.status, conditions: conds } },
              undefined,
              false,
              'status',
            );
          }
          return sendW(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
        } catch (e) {
          if (!(e instanceof ApiError && e.reason === 'Conflict') || attempt > 5) throw e;
        }
      }
    }
    if (t.sub === 'log' && t.r.kind === 'Pod' && req.method === 'GET') {
      const pod = await this.get(base);
      const nodeName: string | undefined = pod.spec?.nodeName;
      const node = nodeName
        ? await this.store.get(
            storageKey(
              RESOURCE_TYPES.find((r) => r.kind === 'Node')!,
              undefined,
              nodeName,
            ),
          )
        : null;
      return proxyPodLog(pod, node ? JSON.parse(node.value) : null, url.searchParams, res);
    }
    throw new ApiError('NotFound', 'the server could not find the requested resource');
  }

  /**
   * The scale subresource (autoscaling/v1 Scale), what `kubectl scale` reads
   * and patches: spec.replicas of a Deployment or StatefulSet.
   */
  private async scale(t: Target, method: string, body: unknown, ctx: Ctx): Promise<Record<string, any>> {
    const toScale = (o: Record<string, any>) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        uid: o.metadata.uid,
        resourceVersion: o.metadata.resourceVersion,
        creationTimestamp: o.metadata.creationTimestamp,
      },
      spec: { replicas: o.spec?.replicas ?? 1 },
      status: {
        replicas: o.status?.replicas ?? 0,
        selector: Object.entries(o.spec?.selector?.matchLabels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      },
    });
    const cur = await this.get(t);
    if (method === 'GET') return toScale(cur);
    if (method !== 'PUT' && method !== 'PATCH')
      throw errors.methodNotAllowed(`${method} is not supported on ${t.r.plural}/scale`);
    const want =
      method === 'PUT'
        ? (body as { spec?: { replicas?: unknown } })
        : (mergePatch(toScale(cur), body) as { spec?: { replicas?: unknown } });
    const replicas = want?.spec?.replicas;
    if (!Number.isInteger(replicas) || (replicas as number) < 0) {
      throw new ApiError(
        'Invalid',
        `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
        {
          name: t.name,
          kind: 'Scale',
          causes: [
            { field: 'spec.replicas', message: 'must be greater than or equal to 0', reason: 'FieldValueInvalid' },
          ],
        },
      );
    }
    const rv = (body as { metadata?: { resourceVersion?: string } })?.metadata?.resourceVersion;
    const updated = await this.replace(
      t,
      { ...cur, spec: { ...cur.spec, replicas } },
      method === 'PUT' && rv ? rv : cur.metadata.resourceVersion,
      ctx.dryRun,
    );
    return toScale(updated);
  }

  /**
   * Watch: without resourceVersion (or "0"), first the current objects as
   * ADDED, then changes; with one, every change after it, or 410 Expired as
   * an ERROR event when that history is gone. One JSON event per line.
   */
  private async watch(t: Target, q: URLSearchParams, res: http.ServerResponse): Promise<void> {
    const sel = selector(q);
    const fields = fieldSelector(t.r, q);
    let from = Number(q.get('resourceVersion') ?? '0');
    if (!Number.isInteger(from) || from < 0)
      throw errors.badRequest(`invalid resourceVersion "${q.get('resourceVersion')}"`);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const emit = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    if (from === 0) {
      const { items, revision } = await this.store.list(storagePrefix(t.r, t.namespace));
      for (const kv of items) {
        const o = this.withRv(kv);
        if (matches(sel, o.metadata?.labels) && fieldsMatch(fields, o)) emit('ADDED', o);
      }
      from = revision;
    }
    try {
      const w = await this.store.watch(
        storagePrefix(t.r, t.namespace),
        from,
        (e) => {
          const o = JSON.parse(e.value) as Record<string, any>;
          o.metadata = { ...o.metadata, resourceVersion: String(e.revision) };
          if (matches(sel, o.metadata?.labels) && fieldsMatch(fields, o)) emit(e.type, o);
        },
        (err) => {
          emit('ERROR', fromStoreError(err, resourceName(t.r), '').toStatus());
          res.end();
        },
      );
      res.on('close', () => w.close());
    } catch (err) {
      if (err instanceof StoreError) {
        emit('ERROR', fromStoreError(err, resourceName(t.r), '').toStatus());
        res.end();
        return;
      }
      throw err;
    }
  }
}

interface Ctx {
  fv: FieldValidation;
  warnings: string[];
  /** ?dryRun=All: validate and answer as if done, store nothing */
  dryRun: boolean;
}

/**
 * OpenAPI v3, only as much as kubectl reads: per group-version, a PATCH
 * operation for each served kind tagged with its group-version-kind and a
 * `fieldValidation` query parameter. That is how kubectl decides the server
 * validates fields itself (cli-runtime's queryParamVerifierV3) instead of
 * fetching a full OpenAPI v2 schema to validate client-side.
 */
function servedGroupVersions(): string[] {
  return [...new Set(SERVED.map((r) => (r.group ? `apis/${r.group}/${r.version}` : 'api/v1')))];
}

function openapiIndex(): Record<string, unknown> {
  return {
    paths: Object.fromEntries(servedGroupVersions().map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}` }])),
  };
}

function openapiDoc(gvPath: string): Record<string, unknown> | null {
  if (!servedGroupVersions().includes(gvPath)) return null;
  const paths: Record<string, unknown> = {};
  for (const r of SERVED.filter((x) => (x.group ? `apis/${x.group}/${x.version}` : 'api/v1') === gvPath)) {
    const base = `/${gvPath}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.30.0-podwire' },
    paths,
    components: { schemas: {} },
  };
}

const now = () => isoTime();
const resourceName = (r: ResourceType) => (r.group ? `${r.plural}.${r.group}` : r.plural);

function selector(q: URLSearchParams) {
  try {
    return parseSelector(q.get('labelSelector') ?? '');
  } catch (e) {
    throw errors.badRequest((e as LabelError).message);
  }
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

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 3 << 20) reject(new ApiError('BadRequest', 'request body larger than 3 MiB'));
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve(undefined);
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new ApiError('BadRequest', `the request body is not valid JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

/** /api/v1/[namespaces/{ns}/]{plural}[/{name}[/{sub}]] and the same under /apis/{group}/{version}. */
function parseTarget(path: string): Target | null {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(path);
  if (!m) return null;
  const group = m[1] ?? '';
  const version = m[2] ?? 'v1';
  const parts = m[3].split('/').map(decodeURIComponent);
  const find = (plural: string) =>
    SERVED.find((r) => r.group === group && r.version === version && r.plural === plural);
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    const r = find(parts[2]);
    if (!r || !r.namespaced) return null;
    return { r, namespace: parts[1], name: parts[3], sub: parts[4] };
  }
  const r = find(parts[0]);
  if (!r) return null;
  if (r.namespaced) return parts.length === 1 ? { r } : null; // all namespaces: list/watch only
  return { r, name: parts[1], sub: parts[2] };
}

/** What the server sets on create (Kubernetes' registry strategies, PrepareForCreate). */
function initialStatus(kind: string, o: Record<string, any>): void {
  if (kind === 'Pod') o.status = { phase: 'Pending', qosClass: 'BestEffort' };
  else if (kind === 'Deployment' || kind === 'StatefulSet') delete o.status;
  else if (kind === 'Service') o.status = { loadBalancer: {} };
}

function fieldSelector(r: ResourceType, q: URLSearchParams) {
  return parseFieldSelector(r.kind, q.get('fieldSelector') ?? '');
}
