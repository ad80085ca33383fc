import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Health } from './health.js';

/** What `GET /status` on the load balancer's Unix socket answers (and `podwire lab status` shows). */
export interface CloudLbStatus {
  ip: string;
  mac: string;
  interface: string;
  pool: string;
  startedAt: string;
  apiserver: string;
  services: ServiceStatus[];
  nodes: { name: string; ip: string; mac: string | null; flows: number }[];
  /** connections tracked */
  flows: number;
  counters: Record<string, unknown> & {
    arpReplies: number;
    forwarded: number;
    forwardedBytes: number;
    drops: Record<string, number>;
  };
  informers: { services: string | null; nodes: string | null };
}

export interface ServiceStatus {
  service: string;
  externalIp: string | null;
  /** why it is <pending> */
  problem: string | null;
  ports: string[];
  check: 'service' | 'kube-proxy' | null;
  /** no node healthy: new flows go to all */
  failOpen: boolean;
  nodes: { name: string; ip: string; url: string; health: Health; last: string; since: string; frames: number }[];
}

export async function serveStatus(socket: string, status: () => CloudLbStatus): Promise<{ close(): Promise<void> }> {
  fs.mkdirSync(path.dirname(socket), { recursive: true });
  fs.rmSync(socket, { force: true });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/status') {
      const body = JSON.stringify(status(), null, 2);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `no ${req.method} ${path} here: try GET /status` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        fs.rmSync(socket, { force: true });
      }),
  };
}

/** GET /status from a running load balancer, or null when nothing answers. */
export function fetchCloudLbStatus(socket: string, timeoutMs = 2000): Promise<CloudLbStatus | null> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/status', timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(text) as CloudLbStatus) : null);
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

const mark: Record<Health, string> = { healthy: 'healthy', unhealthy: 'UNHEALTHY', unknown: 'unknown' };

/** The load balancer's Services as table rows: SERVICE, EXTERNAL-IP, PORTS, CHECK, NODES (pure: tests compare it). */
export function cloudLbRows(s: CloudLbStatus): string[][] {
  return s.services.map((svc) => [
    svc.service,
    svc.externalIp ?? '<pending>',
    svc.ports.join(',') || '<none>',
    svc.check === 'service'
      ? `:${new URL(svc.nodes[0]?.url ?? 'http://x:0/').port}/ (ETP Local)`
      : svc.check === 'kube-proxy'
        ? ':10256/healthz (ETP Cluster)'
        : '-',
    svc.problem ??
      svc.nodes.map((n) => `${n.name}=${mark[n.health]}`).join(' ') + (svc.failOpen ? ' (none healthy: to all)' : ''),
  ]);
}
