import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { StoreError, type Store } from '../store/index.js';
import { RESOURCE_TYPES, storageKey } from './resources.js';
import { Registry } from './registry.js';
import { route } from './routing.js';
import { now } from './object.js';
import type { HealthState } from './health.js';

export { SERVED } from './served.js';
export { SERVICE_ALLOC } from './strategies/index.js';

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
 * (Secret and ConfigMap rules), subresources/ (status, scale, binding, log).
 */
export class ApiServer {
  private readonly sockets = new Set<Socket>();
  private readonly registry: Registry;
  /** what /readyz reports: the store's health, and whether the server is stopping */
  private readonly state: HealthState;

  constructor(private readonly store: Store) {
    this.registry = new Registry(store);
    this.state = { store, stopping: false };
  }

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
  onUpgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer, store: Store) => void;

  private newServer(): http.Server {
    const server = http.createServer((req, res) => void route(this.registry, req, res, this.state));
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
        const a = server.address() as AddressInfo;
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
    this.state.stopping = true;
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((srv) => new Promise<void>((r) => srv.close(() => r()))));
  }
}
