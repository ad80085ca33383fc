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
export { HttpEvent } from './controller/l7-events.js';
export { parseControllerArgs, ControllerArgs } from './controller/args.js';
export {
  ingressAddon,
  defaultReplicas,
  INGRESS_NAMESPACE,
  INGRESS_CONTROLLER_NAME,
  INGRESS_LABEL_SELECTOR,
} from './addon.js';
export { PemPair } from './types.js';
export { ControllerArgsError } from './controller/args.js';
export { tlsSecretObject } from './tls-secret.js';
export { makeSelfSigned } from './controller/fake-cert.js';
export { ControllerMetrics } from './controller/controller-metrics.js';
export { L7EventHub, httpEvent } from './controller/l7-events.js';
export { ClusterObjects } from './types.js';
