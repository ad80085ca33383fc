/**
 * The ingress controller's routing model (pure) — the one public entry of
 * src/ingress for the proxy and the controller process:
 *
 *   compileRoutes(objects, opts) → { table, statuses, events }
 *   table.route(req) / table.certificate(sni, port) / table.listeners / table.describe()
 *   ourIngresses(objects, opts)        the Ingresses whose status the controller writes
 *   ingressStatus(ingress, lbIngress)  that status (status.loadBalancer.ingress)
 *   withGatewayAddresses(statuses, addresses)  Gateway status.addresses added to compile's statuses
 */
export * from './types.js';
export { compileRoutes, ingressStatus, ourIngresses } from './compile.js';
export { withGatewayAddresses } from './model/gateway-status.js';
export {
  ingressClassChoice,
  LEGACY_CLASS_ANNOTATION,
  DEFAULT_CLASS_ANNOTATION,
  type IngressClassChoice,
} from './model/ingress-class.js';
export { nginxSettings, NGINX_PREFIX, type NginxSettings } from './model/annotations.js';
export { SSL_REDIRECT_STATUS, nginxRewrite } from './model/ingress-router.js';
