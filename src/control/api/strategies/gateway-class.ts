import { gatewayTransitionCauses } from '../schemas/gateway-class.js';
import type { Strategy } from './strategy.js';

/** The CRD's transition rule (CEL with oldSelf): spec.controllerName is immutable. */
export const gatewayClassStrategy: Strategy = {
  validateUpdate(cur, next) {
    return gatewayTransitionCauses('GatewayClass', cur, next);
  },
};
