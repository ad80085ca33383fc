import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { StoreError, type Store } from '../store/index.js';
import { RESOURCE_TYPES, storageKey } from './resources.js';
import { Registry } from './registry.js';
import { route } from './routing.js';
import { now } from './object.js';
import type { HealthState } from './health.js';
import { Access, type AuthOptions, type Channel } from './access.js';
import {
  RbacCache,
  writeThrough,
  builtInClusterRoleObjects,
  builtInClusterRoleBindingObjects,
  AUTOUPDATE,
} from '../auth/index.js';
import { canonicalJson } from '../canonical-json.js';
import type { DefaultTolerationSeconds } from './strategies/index.js';

export type { AuthOptions } from './access.js';

/** How a server is set up beyond its store; `new ApiServer(store)` is the open, in-process one tests use. */
export interface ApiServerConfig {
  /** authentication and authorization; without it every request is system:admin and allowed */
  auth?: AuthOptions;
  /** create the built-in ClusterRoles and bindings at bootstrap (default: when `auth` is given) */
  bootstrapPolicy?: boolean;
  /** the ServiceAccount admission plugin on pods (where a ServiceAccount controller makes `default`) */
  serviceAccountAdmission?: boolean;
  /** --default-not-ready-toleration-seconds, --default-unreachable-toleration-seconds (300 each unless set) */
  defaultTolerationSeconds?: DefaultTolerationSeconds;
  log?: (m: string) => void;
}

/** The server's certificate and key, and the CA client certificates must chain to (PEM). */
export interface TlsFiles {
  cert: string | Buffer;
  key: string | Buffer;
  clientCa?: string | Buffer;
}

export { SERVED } from './served.js';
export { SERVICE_ALLOC, DEFAULT_TOLERATION_SECONDS, type DefaultTolerationSeconds } from './strategies/index.js';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/**
 * podwire's Kubernetes-style API server: REST on /api/v1 and
 * /apis/<group>/<version>, list (label selectors), get, create, update
 * (optimistic concurrency on resourceVersion), merge patch, delete, and
 * watch from a resourceVersion, errors as Status objects. It serves only the
 * kinds whose whole schema it validates (see validate.ts); discovery lists
 * exactly those.
 *
 * Its parts: routing.ts (HTTP → registry), limits.ts (what is refused
 * before its meaning is read: size, depth), health.ts (/livez, /readyz,
 * /healthz), registry.ts (generic CRUD, deletecollection and watch over the
 * store), strategies/ (what one kind does differently), config-data.ts
 * (Secret and ConfigMap rules), subresources/ (status, scale, binding, log,
 * token), access.ts (authentication, impersonation, RBAC; with ../auth),
 * reviews.ts (can-i, whoami).
 *
 * Listeners: `listenUnix` (the control-plane machine's own channel: every
 * request is system:admin, as kube-apiserver's loopback client), `listen`
 * (plain HTTP, the same; `podwire apiserver` allows it only on loopback)
 * and `listenTls` (HTTPS: client certificates, ServiceAccount tokens,
 * anonymous only for health and version; RBAC unless AlwaysAllow).
 */
export class ApiServer {
  private readonly sockets = new Set<Socket>();
  private readonly registry: Registry;
  /** what /readyz reports: the store's health, and whether the server is stopping */
  private readonly state: HealthState;

  private readonly access: Access;
  private readonly cache: RbacCache | null;

  constructor(
    private readonly store: Store,
    private readonly config: ApiServerConfig = {},
  ) {
    // RBAC objects, ServiceAccounts and pods in memory: authorization reads no store per request
    this.cache = config.auth ? new RbacCache(store, config.log) : null;
    this.registry = new Registry(this.cache ? writeThrough(store, this.cache) : store, {
      serviceAccountAdmission: config.serviceAccountAdmission,
      defaultTolerationSeconds: config.defaultTolerationSeconds,
    });
    this.access = new Access(config.auth ?? null, this.cache);
    this.state = { store, stopping: false };
  }

  /** Create the namespaces every cluster has, and (with auth) the built-in RBAC policy; fill the auth cache. */
  async bootstrap(): Promise<void> {
    await this.bootstrapNamespaces();
    if (this.config.bootstrapPolicy ?? !!this.config.auth) await this.bootstrapPolicy();
    await this.cache?.start();
  }

  /**
   * The built-in ClusterRoles and ClusterRoleBindings (auth/policy.ts),
   * as kube-apiserver's RBAC post-start hook: each created when missing;
   * one that exists is put back to the built-in content when it differs,
   * unless annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`.
   * Idempotent, and safe with several servers on one etcd (a lost race is
   * an AlreadyExists or a Conflict: the other server wrote the same thing).
   */
  private async bootstrapPolicy(): Promise<void> {
    const crType = RESOURCE_TYPES.find((r) => r.kind === 'ClusterRole')!;
    const crbType = RESOURCE_TYPES.find((r) => r.kind === 'ClusterRoleBinding')!;
    const want = [
      ...builtInClusterRoleObjects().map((o) => ({ o, key: storageKey(crType, undefined, o.metadata.name) })),
      ...builtInClusterRoleBindingObjects().map((o) => ({ o, key: storageKey(crbType, undefined, o.metadata.name) })),
    ];
    const content = (o: Record<string, any>) =>
      canonicalJson({ rules: o.rules, aggregationRule: o.aggregationRule, roleRef: o.roleRef, subjects: o.subjects });
    for (const { o, key } of want) {
      const kv = await this.store.get(key);
      try {
        if (!kv) {
          await this.store.create(
            key,
            JSON.stringify({ ...o, metadata: { ...o.metadata, uid: randomUUID(), creationTimestamp: now() } }),
          );
          continue;
        }
        const cur = JSON.parse(kv.value) as Record<string, any>;
        if (cur.metadata?.annotations?.[AUTOUPDATE] === 'false' || content(cur) === content(o)) continue;
        const next = {
          ...cur,
          ...o,
          metadata: { ...cur.metadata, labels: { ...cur.metadata?.labels, ...o.metadata.labels } },
        };
        await this.store.update(key, JSON.stringify(next), kv.modRevision);
      } catch (e) {
        if (!(e instanceof StoreError && (e.code === 'AlreadyExists' || e.code === 'Conflict'))) throw e;
      }
    }
  }

  private async bootstrapNamespaces(): Promise<void> {
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
  onUpgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer, store: Store) => void;

  private newServer(channel: Channel, tls?: TlsFiles): http.Server {
    const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const a = this.access.admit(req, channel);
      if ('code' in a) {
        res.writeHead(a.code, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(a.status));
      }
      void route(this.registry, req, res, this.state, { user: a.user, access: this.access });
    };
    const server = tls
      ? https.createServer(
          // a certificate is asked for, not required: token and anonymous clients have none
          { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false },
          handle,
        )
      : http.createServer(handle);
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      // pods/exec, attach and portforward need `create` on the subresource, whatever the method (Kubernetes 1.30+)
      const a = this.access.admit(req, channel, 'create');
      if ('code' in a) return void socket.end(rawStatus(a.code, a.status));
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

  /** Plain HTTP: every request is system:admin (for loopback and tests only; the CLI refuses anything else). */
  listen(port: number, host = '127.0.0.1'): Promise<{ url: string; port: number }> {
    return this.listenOn(this.newServer('local'), 'http', port, host);
  }

  /** HTTPS with client certificates (verified against `clientCa`), ServiceAccount tokens and RBAC. */
  listenTls(port: number, host: string, tls: TlsFiles): Promise<{ url: string; port: number }> {
    return this.listenOn(this.newServer('tls', tls), 'https', port, host);
  }

  private listenOn(server: http.Server, scheme: string, port: number, host: string) {
    return new Promise<{ url: string; port: number }>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const a = server.address() as AddressInfo;
        resolve({ url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${a.port}`, port: a.port });
      });
    });
  }

  /** Also (or only) on a Unix socket; returns the `unix:` address ApiClient takes. */
  listenUnix(socketPath: string): Promise<string> {
    const server = this.newServer('local');
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
    this.state.stopping = true;
    this.cache?.close();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden' };

/** A refused upgrade: a whole HTTP response on the raw socket. */
function rawStatus(code: number, status: Record<string, unknown>): string {
  const body = JSON.stringify(status);
  return `HTTP/1.1 ${code} ${REASONS[code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
