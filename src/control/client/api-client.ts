import http from 'node:http';
import https from 'node:https';
import { findResource, resourceForKind, groupVersion, type ResourceType } from '../api/resources.js';
import { transportFor, toApiServerConfig, type ApiServerTarget, type Transport } from './credentials.js';

/**
 * A small client for podwire's (and Kubernetes') REST API, used by the
 * controllers, the agents and the CLI. The server is `https://host:port` with
 * the lab CA and a client certificate or a ServiceAccount token (compose,
 * in-cluster clients; see credentials.ts), `unix:/path/to/apiserver.sock`
 * (the netns lab: a Unix socket is a file, so it is reachable from every node
 * namespace without any route to the host), or `http://127.0.0.1:port` (the
 * teaching listener).
 */
export class ApiClientError extends Error {
  readonly code: string;
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: Record<string, any>,
  ) {
    super(message);
    this.name = 'ApiClientError';
    this.code = `ERR_API_${reason || status}`;
  }
}

export type KubeObject = Record<string, any> & {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    [k: string]: any;
  };
};

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchEventOf<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'ERROR' | 'BOOKMARK';
  object: T;
}

export interface WatchHandle {
  close(): void;
}

export function resourceOf(kindOrName: string | ResourceType, apiVersion?: string): ResourceType {
  if (typeof kindOrName !== 'string') return kindOrName;
  const r = apiVersion ? resourceForKind(apiVersion, kindOrName) : findResource(kindOrName);
  if (!r) throw new ApiClientError(404, 'NotFound', `the server doesn't have a resource type "${kindOrName}"`);
  return r;
}

export function resourcePath(r: ResourceType, namespace?: string, name?: string, sub?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : '/api/v1';
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}

export class ApiClient {
  /** The URL (or unix:path) — what error messages name. */
  readonly server: string;
  private readonly transport: Transport;
  private readonly agent: http.Agent;

  constructor(target: ApiServerTarget) {
    const cfg = toApiServerConfig(target);
    this.server = cfg.server;
    this.transport = transportFor(cfg);
    this.agent =
      this.transport.module === https
        ? new https.Agent({ keepAlive: true, maxSockets: 16 })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Options for one request: where, TLS, and the Authorization header (a token file read again if it changed). */
  private options(method: string, path: string, headers: Record<string, string> = {}): https.RequestOptions {
    const auth = this.transport.authorization();
    return {
      ...this.transport.target,
      method,
      path,
      headers: auth ? { ...headers, authorization: auth } : headers,
    };
  }

  private send(opts: https.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    return this.transport.module.request(opts, onResponse);
  }

  close(): void {
    this.agent.destroy();
  }

  /** One request; JSON in and out. Non-2xx answers throw ApiClientError carrying the Status. */
  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    timeoutMs = 30_000,
  ): Promise<T> {
    const { status, text } = await this.raw(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
      contentType,
      timeoutMs,
    );
    let parsed: any;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status < 200 || status > 299) {
      throw new ApiClientError(
        status,
        parsed?.reason ?? '',
        parsed?.message ?? (text.trim() || `HTTP ${status}`),
        parsed,
      );
    }
    return parsed as T;
  }

  /** The body as text (pod logs). */
  async text(path: string, timeoutMs = 30_000): Promise<string> {
    const { status, text } = await this.raw('GET', path, undefined, 'application/json', timeoutMs);
    if (status < 200 || status > 299) {
      let msg = text.trim();
      try {
        msg = JSON.parse(text).message ?? msg;
      } catch {
        /* plain text error */
      }
      throw new ApiClientError(status, '', msg || `HTTP ${status}`);
    }
    return text;
  }

  /** A streaming GET: chunks as they arrive (pod logs with follow). */
  stream(path: string, onChunk: (b: Buffer) => void, onEnd: (err?: Error) => void): WatchHandle {
    const req = this.send({ ...this.options('GET', path), agent: false }, (res) => {
      if ((res.statusCode ?? 500) > 299) {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => onEnd(new ApiClientError(res.statusCode ?? 500, '', errorMessage(text))));
        return;
      }
      res.on('data', onChunk);
      res.on('end', () => onEnd());
      res.on('error', (e) => onEnd(e));
    });
    req.on('error', (e) => onEnd(e));
    req.end();
    return { close: () => req.destroy() };
  }

  private raw(
    method: string,
    path: string,
    body: string | undefined,
    contentType: string,
    timeoutMs: number,
    retried = false,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) {
        headers['content-type'] = contentType;
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const req = this.send(
        { ...this.options(method, path, headers), agent: this.agent, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path}: no answer from the API server within ${timeoutMs} ms`)),
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed meanwhile (it restarted):
        // the request never got there; send it once more on a new connection.
        if (req.reusedSocket && !retried && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) {
          this.raw(method, path, body, contentType, timeoutMs, true).then(resolve, reject);
          return;
        }
        reject(
          new ApiClientError(503, 'ServiceUnavailable', `cannot reach the API server at ${this.server}: ${e.message}`),
        );
      });
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async get<T extends KubeObject = KubeObject>(
    r: string | ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T> {
    return this.request('GET', resourcePath(resourceOf(r), namespace, name));
  }

  /** get, or null when it does not exist */
  async tryGet<T extends KubeObject = KubeObject>(
    r: string | ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | null> {
    try {
      return await this.get<T>(r, namespace, name);
    } catch (e) {
      if (e instanceof ApiClientError && e.status === 404) return null;
      throw e;
    }
  }

  async list<T extends KubeObject = KubeObject>(
    r: string | ResourceType,
    opts: ListOptions = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const out = await this.request('GET', `${resourcePath(resourceOf(r), opts.namespace)}${query(opts)}`);
    return { items: out.items ?? [], resourceVersion: out.metadata?.resourceVersion ?? '0' };
  }

  async create<T extends KubeObject = KubeObject>(
    obj: Record<string, any>,
    opts: { dryRun?: boolean } = {},
  ): Promise<T> {
    const r = resourceOf(obj.kind!, obj.apiVersion);
    // as kubectl: a namespaced object that names no namespace goes to "default"
    const ns = r.namespaced ? (obj.metadata?.namespace ?? 'default') : undefined;
    return this.request('POST', `${resourcePath(r, ns)}${opts.dryRun ? '?dryRun=All' : ''}`, obj);
  }

  /** PUT the whole object (Conflict if its resourceVersion is stale). */
  async update<T extends KubeObject = KubeObject>(obj: Record<string, any>): Promise<T> {
    const r = resourceOf(obj.kind!, obj.apiVersion);
    return this.request('PUT', resourcePath(r, obj.metadata.namespace, obj.metadata.name), obj);
  }

  /** PUT only the status (the /status subresource). */
  async updateStatus<T extends KubeObject = KubeObject>(obj: Record<string, any>): Promise<T> {
    const r = resourceOf(obj.kind!, obj.apiVersion);
    return this.request('PUT', resourcePath(r, obj.metadata.namespace, obj.metadata.name, 'status'), obj);
  }

  /** JSON merge patch (RFC 7386); `status: true` patches the /status subresource. */
  async patch<T extends KubeObject = KubeObject>(
    r: string | ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts: { status?: boolean } = {},
  ): Promise<T> {
    return this.request(
      'PATCH',
      resourcePath(resourceOf(r), namespace, name, opts.status ? 'status' : undefined),
      patch,
      'application/merge-patch+json',
    );
  }

  /**
   * Delete. A pod bound to a node is not gone at once: it turns Terminating
   * (deletionTimestamp set) until its node's agent has stopped it, unless
   * gracePeriodSeconds is 0. `uid`: only if the object is still that one.
   */
  async delete(
    r: string | ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { gracePeriodSeconds?: number; uid?: string } = {},
  ): Promise<Record<string, any>> {
    const q = opts.gracePeriodSeconds !== undefined ? `?gracePeriodSeconds=${opts.gracePeriodSeconds}` : '';
    const body = opts.uid ? { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: opts.uid } } : undefined;
    return this.request('DELETE', `${resourcePath(resourceOf(r), namespace, name)}${q}`, body);
  }

  /**
   * One watch stream from `resourceVersion` ("0" or none: the current
   * objects first as ADDED). `onEnd` is called once when the stream ends for
   * any reason (server gone, 410 Expired as an ERROR event before it, close()).
   */
  watch<T extends KubeObject = KubeObject>(
    r: string | ResourceType,
    opts: ListOptions & { resourceVersion?: string },
    onEvent: (e: WatchEventOf<T>) => void,
    onEnd: (err?: Error) => void,
  ): WatchHandle {
    const q = new URLSearchParams({ watch: 'true' });
    if (opts.resourceVersion) q.set('resourceVersion', opts.resourceVersion);
    if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
    let ended = false;
    const end = (err?: Error) => {
      if (!ended) {
        ended = true;
        onEnd(err);
      }
    };
    let buffered = '';
    const req = this.send(
      { ...this.options('GET', `${resourcePath(resourceOf(r), opts.namespace)}?${q}`), agent: false },
      (res) => {
        if ((res.statusCode ?? 500) > 299) {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => end(new ApiClientError(res.statusCode ?? 500, '', errorMessage(text))));
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl);
            buffered = buffered.slice(nl + 1);
            if (!line.trim()) continue;
            let e: WatchEventOf<T>;
            try {
              e = JSON.parse(line);
            } catch {
              end(new Error(`watch: the server sent a line that is not JSON: ${line.slice(0, 200)}`));
              req.destroy();
              return;
            }
            onEvent(e);
          }
        });
        res.on('end', () => end());
        res.on('error', (e) => end(e));
        res.on('close', () => end());
      },
    );
    req.on('error', (e) => end(e));
    req.end();
    return {
      close: () => {
        ended = true;
        req.destroy();
      },
    };
  }
}

function query(opts: ListOptions): string {
  const q = new URLSearchParams();
  if (opts.labelSelector) q.set('labelSelector', opts.labelSelector);
  if (opts.fieldSelector) q.set('fieldSelector', opts.fieldSelector);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function errorMessage(text: string): string {
  try {
    return JSON.parse(text).message ?? text;
  } catch {
    return text.trim();
  }
}

export { groupVersion };
