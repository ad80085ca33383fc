import type { PluginInstance } from '../chain.js';
import type { HttpRoute } from './http.js';

/**
 * `health [ADDRESS] { lameduck DURATION }`: http://ADDRESS/health answers
 * 200 "OK" while the process runs (the Deployment's liveness probe). With
 * lameduck, a stopping server keeps answering DNS for that long first.
 */
export const DEFAULT_HEALTH_ADDRESS = ':8080';

export class HealthPlugin implements PluginInstance {
  readonly name = 'health';
  readonly routes: HttpRoute[];
  constructor(
    address = DEFAULT_HEALTH_ADDRESS,
    readonly lameduckMs = 0,
  ) {
    this.routes = [{ address, path: '/health', owner: 'health', handle: () => ({ status: 200, body: 'OK' }) }];
  }
}

/**
 * `ready [ADDRESS]`: http://ADDRESS/ready answers 200 "OK" once every
 * plugin that can be unready (the kubernetes plugin until its first sync
 * with the API server) is ready, else 503 with their names — the
 * readiness probe that keeps kube-dns endpoints off a starting pod.
 */
export const DEFAULT_READY_ADDRESS = ':8181';

export class ReadyPlugin implements PluginInstance {
  readonly name = 'ready';
  readonly routes: HttpRoute[];
  constructor(
    address: string,
    /** the plugins of every server block, looked up when asked (reloads replace them) */
    plugins: () => PluginInstance[],
  ) {
    this.routes = [
      {
        address: address || DEFAULT_READY_ADDRESS,
        path: '/ready',
        owner: 'ready',
        handle: () => {
          const waiting = [
            ...new Set(
              plugins()
                .filter((p) => p.ready && !p.ready())
                .map((p) => p.name),
            ),
          ].sort();
          return waiting.length ? { status: 503, body: waiting.join(', ') } : { status: 200, body: 'OK' };
        },
      },
    ];
  }
}
