import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { resourceForKind, groupVersion, type ResourceType } from '../api/resources.js';
import { depthOf, MAX_DEPTH } from '../api/limits.js';
import { ApiClient, ApiClientError } from './api-client.js';
import { conflictsBetween } from './apply-conflicts.js';
import type { ApiServerTarget } from './credentials.js';

/**
 * `podwire apply -f FILE|DIR|-`: multi-document YAML (or JSON) to the API
 * server, all or nothing:
 * 1. every document is checked by the server with ?dryRun=All, and the
 *    documents against each other (two Services asking for one cluster IP
 *    or node port: conflictsBetween) — any problem, and nothing is written;
 * 2. then written in order; should a write still fail (the cluster changed
 *    meanwhile, or a document depends on an earlier one in a way no dry run
 *    sees), what this apply wrote is undone in reverse order — objects it
 *    created deleted (only those: by uid), objects it changed put back as
 *    they were — and the answer says so.
 * (What no client can promise: the process killed between 2's writes and
 * its undo. Kubernetes has no multi-object transaction either.)
 * An existing object is replaced (keeping what the server owns), an equal
 * one is left alone; kubectl's output lines (`pod/web created`).
 */
export interface Doc {
  source: string;
  index: number;
  obj: Record<string, any>;
  r: ResourceType;
  namespace?: string;
}

export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  /** a manifest that cannot be read, parsed or mapped to a resource */
  readonly code = 'ERR_BAD_MANIFEST';
}

export function readManifests(
  sources: string[],
  readStdin: () => string = () => fs.readFileSync(0, 'utf8'),
): { source: string; text: string }[] {
  const out: { source: string; text: string }[] = [];
  for (const s of sources) {
    if (s === '-') out.push({ source: '<stdin>', text: readStdin() });
    else if (fs.existsSync(s) && fs.statSync(s).isDirectory()) {
      for (const f of fs
        .readdirSync(s)
        .filter((x) => /\.(ya?ml|json)$/.test(x))
        .sort())
        out.push({ source: path.join(s, f), text: fs.readFileSync(path.join(s, f), 'utf8') });
    } else if (fs.existsSync(s)) out.push({ source: s, text: fs.readFileSync(s, 'utf8') });
    else throw new ApplyError(`the path "${s}" does not exist`);
  }
  return out;
}

/** Parse and check every document; all problems at once, with file and line. */
export function parseManifests(
  files: { source: string; text: string }[],
  defaultNamespace: string,
): { docs: Doc[]; problems: string[] } {
  const docs: Doc[] = [];
  const problems: string[] = [];
  for (const f of files) {
    parseAllDocuments(f.text).forEach((d, i) => {
      const where = `${f.source}: document ${i + 1}`;
      if (d.errors.length) {
        for (const e of d.errors) {
          // the yaml parser reports nesting too deep for its recursion as the stack's own words
          const what = /call stack/i.test(e.message)
            ? 'the document nests too deep to parse (the API server takes at most 100 levels)'
            : e.message.split('\n')[0];
          problems.push(`${f.source}:${e.linePos?.[0]?.line ?? '?'}: ${what}`);
        }
        return;
      }
      const obj = d.toJS() as Record<string, any> | null;
      if (obj === null || obj === undefined) return; // an empty document between ---
      if (typeof obj !== 'object' || Array.isArray(obj)) return void problems.push(`${where}: not an object`);
      if (depthOf(obj, MAX_DEPTH) > MAX_DEPTH)
        return void problems.push(`${where}: nests more than ${MAX_DEPTH} levels deep (the API server's limit)`);
      if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string')
        return void problems.push(`${where}: apiVersion and kind are required`);
      const r = resourceForKind(obj.apiVersion, obj.kind);
      if (!r) return void problems.push(`${where}: no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`);
      const name = obj.metadata?.name;
      if (!name && !obj.metadata?.generateName) return void problems.push(`${where}: ${obj.kind} has no metadata.name`);
      docs.push({
        source: f.source,
        index: i + 1,
        obj,
        r,
        namespace: r.namespaced ? (obj.metadata?.namespace ?? defaultNamespace) : undefined,
      });
    });
  }
  return { docs, problems };
}

const collection = (d: Doc) =>
  `${d.r.group ? `/apis/${groupVersion(d.r)}` : '/api/v1'}${d.namespace ? `/namespaces/${encodeURIComponent(d.namespace)}` : ''}/${d.r.plural}`;
const label = (d: Doc) => `${d.r.kind.toLowerCase()}${d.r.group ? `.${d.r.group}` : ''}/${d.obj.metadata.name}`;

/** One call through ApiClient (http://host:port or unix:/path); the answer's status and body, errors included. */
async function call(
  client: ApiClient,
  method: string,
  p: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  try {
    return { status: 200, body: await client.request(method, p, body) };
  } catch (e) {
    if (!(e instanceof ApiClientError)) throw e;
    // no Status body and 503: the server was never reached
    if (!e.body && e.status === 503) throw new ApplyError(e.message);
    return { status: e.status, body: e.body ?? { message: e.message } };
  }
}

export async function apply(server: ApiServerTarget | ApiClient, docs: Doc[]): Promise<ApplyResult> {
  if (server instanceof ApiClient) return applyWith(server, docs);
  const client = new ApiClient(server);
  try {
    return await applyWith(client, docs);
  } finally {
    client.close();
  }
}

/** `lines`: what was done; `problems`: why not; `partial`: a failed write whose undo failed too (half applied). */
export interface ApplyResult {
  lines: string[];
  problems: string[];
  partial?: boolean;
}

async function applyWith(server: ApiClient, docs: Doc[]): Promise<ApplyResult> {
  // 1. Dry run everything; namespaces created by this same apply count as existing.
  const creatingNs = new Set(docs.filter((d) => d.r.kind === 'Namespace').map((d) => d.obj.metadata.name));
  const problems: string[] = [];
  const plan: { d: Doc; existing: any | null }[] = [];
  for (const d of docs) {
    const cur = await call(server, 'GET', `${collection(d)}/${encodeURIComponent(d.obj.metadata.name)}`);
    const existing = cur.status === 200 ? cur.body : null;
    const r = existing
      ? await call(
          server,
          'PUT',
          `${collection(d)}/${encodeURIComponent(d.obj.metadata.name)}?dryRun=All`,
          withRv(d.obj, existing),
        )
      : await call(server, 'POST', `${collection(d)}?dryRun=All`, d.obj);
    const nsPending =
      r.status === 404 && d.namespace && creatingNs.has(d.namespace) && /namespaces/.test(r.body?.message ?? '');
    if (r.status >= 300 && !nsPending)
      problems.push(`${d.source}: document ${d.index} (${label(d)}): ${r.body?.message ?? `HTTP ${r.status}`}`);
    plan.push({ d, existing });
  }
  problems.push(...conflictsBetween(docs));
  if (problems.length) return { lines: [], problems };
  // 2. Apply, in order; on a failure, undo what was written.
  const lines: string[] = [];
  const written: { d: Doc; created: any | null; previous: any | null }[] = [];
  for (const { d } of plan) {
    // Look again right before writing: an earlier document of this same
    // apply may have created it (two files defining one object, as kubectl handles).
    const path = `${collection(d)}/${encodeURIComponent(d.obj.metadata.name)}`;
    const now = await call(server, 'GET', path);
    const existing = now.status === 200 ? now.body : null;
    if (existing && unchangedBy(d.obj, existing)) {
      lines.push(`${label(d)} unchanged`);
      continue;
    }
    const r = existing
      ? await call(server, 'PUT', path, withRv(d.obj, existing))
      : await call(server, 'POST', collection(d), d.obj);
    if (r.status >= 300) {
      problems.push(`${d.source}: document ${d.index} (${label(d)}): ${r.body?.message ?? `HTTP ${r.status}`}`);
      const undo = await rollBack(server, written);
      return { lines: [], problems: [...problems, ...undo.lines], partial: !undo.ok };
    }
    written.push({ d, created: existing ? null : r.body, previous: existing });
    lines.push(`${label(d)} ${existing ? 'configured' : 'created'}`);
  }
  return { lines, problems };
}

/**
 * Undo an apply's writes, last first. Returns the lines to report: what was
 * undone, and anything that could not be (then the apply did half of its work,
 * and says which half).
 */
async function rollBack(server: ApiClient, written: { d: Doc; created: any | null; previous: any | null }[]) {
  const undone: string[] = [];
  const left: string[] = [];
  for (const { d, created, previous } of [...written].reverse()) {
    const name = (created ?? previous).metadata.name as string;
    const path = `${collection(d)}/${encodeURIComponent(name)}`;
    const r = created
      ? await call(server, 'DELETE', path, {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          preconditions: { uid: created.metadata.uid },
        })
      : await (async () => {
          const cur = await call(server, 'GET', path);
          if (cur.status !== 200) return cur;
          const { resourceVersion: _rv, ...meta } = previous.metadata;
          return call(server, 'PUT', path, {
            ...previous,
            metadata: { ...meta, resourceVersion: cur.body.metadata.resourceVersion },
          });
        })();
    const what = `${label(d)} ${created ? 'deleted' : 'restored'}`;
    if (r.status < 300 || (created && r.status === 404)) undone.push(what);
    else left.push(`${label(d)} could not be ${created ? 'deleted' : 'restored'}: ${r.body?.message ?? r.status}`);
  }
  if (left.length) return { ok: false, lines: [`rolling back failed, this apply is half done: ${left.join('; ')}`] };
  return { ok: true, lines: undone.length ? [`rolled back: ${undone.join(', ')}`] : [] };
}

function withRv(obj: Record<string, any>, existing: any): Record<string, any> {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata.resourceVersion } };
}

/**
 * "unchanged": everything the manifest says is already so. The server may
 * have added to it (defaults, a Service's cluster IP, status), which is not a
 * change the user asked for. (kubectl compares with the last applied
 * configuration too, so it also notices a field removed from the manifest;
 * podwire keeps no such annotation: a removed field is not reported here.)
 */
export function unchangedBy(manifest: Record<string, any>, existing: Record<string, any>): boolean {
  const { status: _s, ...rest } = manifest;
  const meta = { ...(rest.metadata ?? {}) };
  for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'namespace'])
    delete meta[k];
  return within({ ...rest, metadata: meta }, existing);
}

function within(want: unknown, have: unknown): boolean {
  if (Array.isArray(want))
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => within(w, have[i]));
  if (want && typeof want === 'object') {
    if (!have || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want as Record<string, unknown>).every(([k, v]) =>
      within(v, (have as Record<string, unknown>)[k]),
    );
  }
  return want === have || (want === null && have === undefined);
}
