import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { metricsText } from './controller-metrics.js';
import type { L7EventHub } from './l7-events.js';

/**
 * ingress-nginx's status port (:10254): GET /healthz — 200 "ok" once the
 * first route table serves, 500 before (the Deployment's readiness and
 * liveness probes ask it) — and GET /metrics (Prometheus). podwire adds
 * GET /podwire/events (the L7 event stream, l7-events.ts) and
 * GET /podwire/routes (the route table in words, one route a line).
 */
export interface HealthDeps {
  healthy(): { ok: boolean; why?: string };
  registries(): Registry[];
  /** false: --enable-metrics=false, /metrics answers 404 as ingress-nginx's does */
  metrics: boolean;
  events: L7EventHub;
  routes(): string[];
}

export class HealthServer {
  private readonly server: http.Server;

  constructor(private readonly d: HealthDeps) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5000;
  }

  listen(port: number, host = '0.0.0.0'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    this.d.events.close();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    try {
      switch (path) {
        case '/healthz': {
          const h = this.d.healthy();
          return h.ok ? text(200, 'ok') : text(500, `not ready: ${h.why ?? 'starting'}\n`);
        }
        case '/metrics': {
          if (!this.d.metrics) return text(404, '404 page not found\n');
          const m = await metricsText(this.d.registries());
          return text(200, m.text, m.contentType);
        }
        case '/podwire/events':
          return this.d.events.subscribe(res);
        case '/podwire/routes':
          return text(
            200,
            this.d
              .routes()
              .map((l) => `${l}\n`)
              .join(''),
          );
        default:
          return text(404, '404 page not found\n');
      }
    } catch (e) {
      if (!res.headersSent) text(500, `${(e as Error).message}\n`);
      else res.destroy();
    }
  }
}
