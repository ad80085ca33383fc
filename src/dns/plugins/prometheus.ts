import { encodeOutcome, outcomeRcode, type Handler, type Outcome, type PluginInstance, type Query } from '../chain.js';
import { qtypeLabel, type DnsMetrics } from '../metrics.js';
import { inZone } from '../wire.js';
import type { HttpRoute } from './http.js';
import { qtypeText } from './names.js';

/** CoreDNS's default: `prometheus` alone listens on localhost:9153. */
export const DEFAULT_METRICS_ADDRESS = 'localhost:9153';

/**
 * `prometheus [ADDRESS]`: counts every query of the server block (requests
 * by zone, proto, family, type; responses by rcode and the plugin that
 * wrote them; durations; sizes) and serves the process's registry at
 * http://ADDRESS/metrics.
 */
export class PrometheusPlugin implements PluginInstance {
  readonly name = 'prometheus';
  readonly routes: HttpRoute[];

  constructor(
    private readonly metrics: DnsMetrics,
    /** the block's zones: the `zone` label is the longest that holds the name, else "." */
    private readonly zones: string[],
    address = DEFAULT_METRICS_ADDRESS,
    private readonly now: () => bigint = process.hrtime.bigint,
  ) {
    this.routes = [
      {
        address,
        path: '/metrics',
        owner: 'prometheus',
        handle: async () => ({ status: 200, contentType: metrics.contentType, body: await metrics.text() }),
      },
    ];
  }

  async serve(q: Query, next: Handler): Promise<Outcome> {
    const o = await next(q);
    if (q.internal) return o;
    const name = q.msg.questions?.[0]?.name ?? '.';
    let zone = '.';
    for (const z of this.zones) if (inZone(name, z) && z.length > zone.length) zone = z;
    const server = q.server;
    const m = this.metrics;
    m.requests.inc({
      server,
      zone,
      proto: q.proto,
      family: String(q.remote.family === 6 ? 2 : 1),
      type: qtypeLabel(qtypeText(q)),
    });
    if (q.do) m.doRequests.inc({ server, zone });
    m.duration.observe({ server, zone, type: qtypeLabel(qtypeText(q)) }, Number(this.now() - q.startNs) / 1e9);
    m.requestSize.observe({ server, zone, proto: q.proto }, q.size);
    m.responseSize.observe({ server, zone, proto: q.proto }, encodeOutcome(q, o).buf.length);
    m.responses.inc({ server, zone, rcode: outcomeRcode(o), plugin: o.plugin });
    return o;
  }
}
