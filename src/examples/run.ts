import fs from 'node:fs';
import path from 'node:path';
import { ApiClient, ApiClientError, resourcePath, type KubeObject, parseManifests, type Doc } from '../control/client/index.js';
import { resourceForKind } from '../control/api/index.js';
import { tlsSecretObject } from '../ingress/index.js';
import type { PemPair } from '../ingress/index.js';
import type { ExampleEntry } from './catalogue.js';
import {
  decideRun,
  decideDelete,
  usersPatch,
  usersOf,
  namespaceBlockers,
  EXAMPLE_LABEL,
  USERS_ANNOTATION,
} from './marks.js';
import type { HintFacts, ServiceFacts } from './hints.js';

/**
 * The side of `podwire example run|delete` that talks to the API server:
 * the article's manifest as printed, with its companion file and fresh TLS
 * Secrets, checked by the server first (?dryRun=All, nothing half-made),
 * then created and marked (marks.ts); the wait for its pods; the facts the
 * hints need; and the delete that removes what the runs made.
 */
export class ExampleRunError extends Error {
  readonly code = 'ERR_EXAMPLE_RUN';
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = 'ExampleRunError';
  }
}

export interface ExampleIo {
  client: ApiClient;
  /** the examples/ folder */
  examplesDir: string;
  /** a self-signed certificate for the hosts (openssl): the TLS Secrets */
  makeTlsPair: (commonName: string, hosts: string[]) => Promise<PemPair>;
  log: (line: string) => void;
}

export interface PlannedDoc {
  doc: Doc;
  /** 'article' (examples/<name>.yaml), 'companion' or 'secret' */
  from: 'article' | 'companion' | 'secret';
}

const label = (d: Doc) => `${d.r.kind.toLowerCase()}${d.r.group ? `.${d.r.group}` : ''}/${d.obj.metadata.name}`;
const objPath = (d: Doc) => resourcePath(d.r, d.namespace, d.obj.metadata.name);

/** The companion's documents, then the article's, parsed as `podwire apply -n <namespace>` would. */
export function readExample(e: ExampleEntry, examplesDir: string): PlannedDoc[] {
  const ns = e.namespace ?? 'default';
  const read = (rel: string) => ({ source: `examples/${rel}`, text: fs.readFileSync(path.join(examplesDir, rel), 'utf8') });
  const out: PlannedDoc[] = [];
  for (const [rel, from] of [
    [`companions/${e.companion}`, 'companion'],
    [`${e.name}.yaml`, 'article'],
  ] as const) {
    const { docs, problems } = parseManifests([read(rel)], ns);
    if (problems.length) throw new ExampleRunError(`examples/${rel} does not parse`, problems);
    out.push(...docs.map((doc) => ({ doc, from })));
  }
  return out;
}

async function tryGet(client: ApiClient, d: Doc): Promise<KubeObject | null> {
  try {
    return await client.request('GET', objPath(d));
  } catch (e) {
    if (e instanceof ApiClientError && e.status === 404) return null;
    throw e;
  }
}

const secretDoc = (obj: Record<string, any>): Doc => ({
  source: 'podwire tls-secret',
  index: 1,
  obj,
  r: resourceForKind('v1', 'Secret')!,
  namespace: obj.metadata.namespace,
});

export interface RunResult {
  /** kubectl-style lines: `service/backend created` */
  lines: string[];
  /** the documents this example uses (made now or by an earlier run; not the foreign ones) */
  used: Doc[];
}

/** Apply (or with dryRun only check) an example; nothing is written unless every document passes the server's dry run. */
export async function runExample(e: ExampleEntry, io: ExampleIo, opts: { dryRun?: boolean } = {}): Promise<RunResult> {
  const planned = readExample(e, io.examplesDir);
  // the Secrets go after the companion (which makes their namespace), before the article's documents
  const at = planned.findIndex((p) => p.from === 'article');
  const secrets: PlannedDoc[] = [];
  for (const s of e.tlsSecrets) {
    const probe = secretDoc({ apiVersion: 'v1', kind: 'Secret', metadata: { name: s.name, namespace: s.namespace } });
    // a fresh key only when the Secret is to be made
    const pair = (await tryGet(io.client, probe)) ? null : await io.makeTlsPair(s.hosts[0], s.hosts);
    const obj = pair ? tlsSecretObject(s.name, s.namespace, pair) : probe.obj;
    secrets.push({ doc: secretDoc(obj), from: 'secret' });
  }
  planned.splice(at < 0 ? planned.length : at, 0, ...secrets);

  const creatingNs = new Set<string>();
  const decisions = [];
  for (const p of planned) {
    const existing = await tryGet(io.client, p.doc);
    const d = decideRun(p.doc.obj, existing, e.name);
    if (d.action === 'create' && p.doc.r.kind === 'Namespace') creatingNs.add(p.doc.obj.metadata.name);
    decisions.push({ p, d });
  }
  // 1. the server checks every object to create (a namespace this run makes counts as there)
  const problems: string[] = [];
  for (const { p, d } of decisions) {
    if (d.action !== 'create') continue;
    try {
      await io.client.request('POST', `${resourcePath(p.doc.r, p.doc.namespace)}?dryRun=All`, d.obj);
    } catch (err) {
      if (!(err instanceof ApiClientError)) throw err;
      const nsPending =
        err.status === 404 && p.doc.namespace && creatingNs.has(p.doc.namespace) && /namespace/.test(err.message);
      if (!nsPending) problems.push(`${p.doc.source}: document ${p.doc.index} (${label(p.doc)}): ${err.message}`);
    }
  }
  if (problems.length)
    throw new ExampleRunError(`${e.name}: the API server refuses ${problems.length === 1 ? 'a document' : 'documents'}`, problems);

  const lines: string[] = [];
  const used: Doc[] = [];
  const suffix = opts.dryRun ? ' (server dry run)' : '';
  for (const { p, d } of decisions) {
    const what = label(p.doc);
    if (d.action === 'foreign') {
      lines.push(`${what} exists (not made by podwire example): left as it is`);
      continue;
    }
    used.push(p.doc);
    if (d.action === 'unchanged') lines.push(`${what} unchanged`);
    else if (d.action === 'share') {
      const users = opts.dryRun ? d.users : await joinUsers(io.client, p.doc, e.name);
      lines.push(`${what} shared (used by ${users.join(', ')})${suffix}`);
    } else if (opts.dryRun || (await createOrShare(io.client, p.doc, d.obj, e.name)) === 'created')
      lines.push(`${what} created${suffix}`);
    else lines.push(`${what} shared (made meanwhile by another run)`);
  }
  return { lines, used };
}

/**
 * Create; when another run made it meanwhile (two examples sharing a
 * companion, run at once), share it instead. A foreign object that
 * appeared meanwhile is left as it is.
 */
async function createOrShare(client: ApiClient, d: Doc, obj: Record<string, any>, example: string) {
  try {
    await client.request('POST', resourcePath(d.r, d.namespace), obj);
    return 'created';
  } catch (err) {
    if (!(err instanceof ApiClientError && err.status === 409)) throw err;
    const again = await tryGet(client, d);
    if (again && decideRun(d.obj, again, example).action === 'share') await joinUsers(client, d, example);
    return 'shared';
  }
}

/**
 * Add (or with `leave`, remove) this example in an object's users: read,
 * patch with the resourceVersion read, again on a Conflict — two runs or
 * deletes at once each keep the other's change. The users after it.
 */
async function joinUsers(client: ApiClient, d: Doc, example: string, leave = false): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    const cur = await tryGet(client, d);
    if (!cur) return [];
    const now = usersOf(cur);
    const users = leave ? now.filter((u) => u !== example) : now.includes(example) ? now : [...now, example];
    try {
      await client.request('PATCH', objPath(d), usersPatch(users, cur.metadata.resourceVersion), MERGE);
      return users;
    } catch (err) {
      if (!(err instanceof ApiClientError && err.status === 409) || attempt >= 5) throw err;
    }
  }
}

const MERGE = 'application/merge-patch+json';

const isReady = (p: KubeObject) =>
  p.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True';

export interface ReadyState {
  ready: number;
  expected: number;
  /** pods not Ready yet, with their phase or reason */
  waiting: string[];
  /** LoadBalancer Services and Gateways with no address yet */
  noAddress: string[];
}

/** How many pods the example's own workloads make, and which Services and Gateways should get an address. */
export function expectations(used: Doc[]): { pods: number; addressed: Doc[] } {
  let pods = 0;
  const addressed: Doc[] = [];
  for (const d of used) {
    if (d.r.kind === 'Pod') pods += 1;
    else if (d.r.kind === 'Deployment' || d.r.kind === 'StatefulSet') pods += d.obj.spec?.replicas ?? 1;
    else if ((d.r.kind === 'Service' && d.obj.spec?.type === 'LoadBalancer') || d.r.kind === 'Gateway')
      addressed.push(d);
  }
  return { pods, addressed };
}

const addressOf = (o: KubeObject | null): string | undefined =>
  o?.kind === 'Gateway' || o?.spec?.gatewayClassName
    ? o?.status?.addresses?.[0]?.value
    : (o?.status?.loadBalancer?.ingress?.[0]?.ip ?? o?.status?.loadBalancer?.ingress?.[0]?.hostname);

export async function readyState(client: ApiClient, used: Doc[]): Promise<ReadyState> {
  const { pods: expected, addressed } = expectations(used);
  const namespaces = [...new Set(used.map((d) => d.namespace).filter((n): n is string => !!n))];
  let ready = 0;
  const waiting: string[] = [];
  for (const ns of namespaces) {
    const { items } = await client.list('pods', { namespace: ns, labelSelector: EXAMPLE_LABEL });
    for (const p of items) {
      if (p.metadata.deletionTimestamp) continue;
      if (isReady(p)) ready++;
      else
        waiting.push(
          `${ns}/${p.metadata.name} (${p.status?.containerStatuses?.find((c: any) => c.state?.waiting)?.state.waiting.reason ?? p.status?.phase ?? 'Pending'})`,
        );
    }
  }
  const noAddress: string[] = [];
  for (const d of addressed) if (!addressOf(await tryGet(client, d))) noAddress.push(`${d.namespace}/${label(d)}`);
  return { ready, expected, waiting, noAddress };
}

const nodeAddress = (n: KubeObject) =>
  n.status?.addresses?.find((a: { type: string }) => a.type === 'InternalIP')?.address as string | undefined;

/** The addresses the hints name, as the API server has them now. */
export async function hintFacts(
  client: ApiClient,
  used: Doc[],
  base: Pick<HintFacts, 'lab' | 'defaultLab' | 'kubectl' | 'wwwIP'>,
): Promise<HintFacts> {
  const services: Record<string, ServiceFacts> = {};
  let gatewayIP: string | undefined;
  for (const d of used) {
    if (d.r.kind === 'Gateway') gatewayIP = addressOf(await tryGet(client, d));
    if (d.r.kind !== 'Service') continue;
    const s = await tryGet(client, d);
    if (!s) continue;
    services[`${d.namespace}/${d.obj.metadata.name}`] = {
      clusterIP: s.spec?.clusterIP && s.spec.clusterIP !== 'None' ? s.spec.clusterIP : undefined,
      externalIP: addressOf(s),
      nodePorts: (s.spec?.ports ?? []).map((p: any) => p.nodePort).filter((p: unknown) => typeof p === 'number'),
    };
  }
  const nodes = (await client.list('nodes')).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const ingress = await client.tryGet('services', 'ingress-nginx', 'ingress-nginx-controller').catch(() => null);
  return {
    ...base,
    services,
    nodeIPs: nodes.map(nodeAddress).filter((a): a is string => !!a),
    ingressIP: addressOf(ingress),
    gatewayIP,
  };
}

export interface DeleteResult {
  lines: string[];
  /** pods still going when the deadline passed */
  lingering: string[];
}

/**
 * Remove what runs of this example made and no other example uses, the
 * article's objects first and the namespaces last (a namespace only if a run
 * made it and nothing else is in it); then wait for the pods to go.
 */
export async function deleteExample(
  e: ExampleEntry,
  io: ExampleIo,
  opts: { timeoutMs?: number; pollMs?: number } = {},
): Promise<DeleteResult> {
  const planned = readExample(e, io.examplesDir);
  const secrets = e.tlsSecrets.map((s) =>
    secretDoc({ apiVersion: 'v1', kind: 'Secret', metadata: { name: s.name, namespace: s.namespace } }),
  );
  const companion = planned.filter((p) => p.from === 'companion').map((p) => p.doc);
  const article = planned.filter((p) => p.from === 'article').map((p) => p.doc);
  const order = [...article, ...secrets, ...companion.filter((d) => d.r.kind !== 'Namespace').reverse()];
  const namespaces = companion.filter((d) => d.r.kind === 'Namespace');
  const lines: string[] = [];
  const going: { d: Doc; obj: KubeObject }[] = [];
  for (const d of order) {
    const cur = await tryGet(io.client, d);
    if (!cur) continue;
    const dec = decideDelete(cur, e.name);
    if (dec.action === 'none') continue;
    if (dec.action === 'release') {
      // (the others may have left meanwhile: then it goes now)
      const users = await joinUsers(io.client, d, e.name, true);
      if (users.length) {
        lines.push(`${label(d)} kept (still used by ${users.join(', ')})`);
        continue;
      }
    }
    await io.client.request('DELETE', objPath(d)).catch((err) => {
      if (!(err instanceof ApiClientError && err.status === 404)) throw err;
    });
    lines.push(`${label(d)} deleted`);
    going.push({ d, obj: cur });
  }
  const lingering = await waitPodsGone(io.client, going, opts.timeoutMs ?? 60_000, opts.pollMs ?? 250);
  for (const d of namespaces) {
    const cur = await tryGet(io.client, d);
    if (!cur) continue;
    const dec = decideDelete(cur, e.name);
    if (dec.action === 'none') continue;
    if (dec.action === 'release') {
      // (the others may have left meanwhile: then it goes now)
      const users = await joinUsers(io.client, d, e.name, true);
      if (users.length) {
        lines.push(`${label(d)} kept (still used by ${users.join(', ')})`);
        continue;
      }
    }
    const blockers = namespaceBlockers(await namespaceContents(io.client, d.obj.metadata.name));
    if (blockers.length) {
      // no longer an example's: unmarked, so it is the learner's now
      const unmark = { metadata: { labels: { [EXAMPLE_LABEL]: null }, annotations: { [USERS_ANNOTATION]: null } } };
      await io.client.request('PATCH', objPath(d), unmark, 'application/merge-patch+json');
      lines.push(
        `${label(d)} kept: it holds ${blockers.slice(0, 5).join(', ')}${blockers.length > 5 ? ', …' : ''} (not made by podwire example)`,
      );
      continue;
    }
    await io.client.request('DELETE', objPath(d));
    lines.push(`${label(d)} deleted`);
  }
  return { lines, lingering };
}

/** The pods of what was deleted (bare pods, and the pods of Deployments and StatefulSets) gone, or the ones still there at the deadline. */
async function waitPodsGone(
  client: ApiClient,
  going: { d: Doc; obj: KubeObject }[],
  timeoutMs: number,
  pollMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left: string[] = [];
    for (const { d, obj } of going) {
      if (d.r.kind === 'Pod') {
        if (await tryGet(client, d)) left.push(`${d.namespace}/${d.obj.metadata.name}`);
      } else if (d.r.kind === 'Deployment' || d.r.kind === 'StatefulSet') {
        const sel = Object.entries(obj.spec?.selector?.matchLabels ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join(',');
        const { items } = await client.list('pods', { namespace: d.namespace, labelSelector: sel });
        left.push(...items.map((p) => `${d.namespace}/${p.metadata.name}`));
      }
    }
    if (!left.length || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The kinds a learner might have put into a namespace. */
const CONTENT_KINDS: [string, string][] = [
  ['v1', 'Pod'],
  ['v1', 'Service'],
  ['v1', 'Secret'],
  ['v1', 'ConfigMap'],
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['networking.k8s.io/v1', 'Ingress'],
  ['gateway.networking.k8s.io/v1', 'Gateway'],
  ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
  ['gateway.networking.k8s.io/v1beta1', 'ReferenceGrant'],
];

async function namespaceContents(client: ApiClient, ns: string): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const [apiVersion, kind] of CONTENT_KINDS) {
    const r = resourceForKind(apiVersion, kind);
    if (!r) continue;
    const { items } = await client.list(r, { namespace: ns });
    out.push(...items.map((o) => ({ ...o, kind })));
  }
  return out;
}
