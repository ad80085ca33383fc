/**
 * The ingress proxy engine's public entry (see engine.ts for what it does
 * and why undici).
 *
 *   const proxy = new IngressProxy({ table, onAccess, onError });
 *   await proxy.start();          // binds table.listeners (rejects if a port cannot be bound)
 *   await proxy.setTable(next);   // swaps routes at once, then adds/removes listeners
 *   proxy.boundPort(80)           // the port listener 80 is bound to (differs under bindPort)
 *   proxy.metrics.registry        // prom-client Registry: podwire_ingress_* series
 *   formatAccessLine(entry)       // ingress-nginx's log line for an onAccess entry
 *   await proxy.stop(graceMs?);
 */
export { IngressProxy, type IngressProxyOptions, type EngineEvent } from './engine.js';
export { type AccessEntry, formatAccessLine, nginxTime } from './access-log.js';
export { IngressMetrics } from './metrics.js';
export { REASON_HEADER } from './responses.js';
export type { UpstreamErrorKind } from './upstream-errors.js';
export type { ClientErrorReason } from './listeners.js';
