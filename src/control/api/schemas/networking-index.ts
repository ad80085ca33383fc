import { networkPolicy, ingress, ingressClass } from './networking.js';
import { gateway, httpRoute } from './gateway.js';
import { gatewayClass, referenceGrant } from './gateway-class.js';
import { endpointSlice } from './discovery.js';

/** Kind -> schema for the networking kinds, to be spread into SCHEMAS. */
export const NETWORKING_SCHEMAS = {
  NetworkPolicy: networkPolicy,
  Ingress: ingress,
  IngressClass: ingressClass,
  Gateway: gateway,
  HTTPRoute: httpRoute,
  GatewayClass: gatewayClass,
  ReferenceGrant: referenceGrant,
  EndpointSlice: endpointSlice,
};
