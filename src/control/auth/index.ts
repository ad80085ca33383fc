/**
 * Authentication and authorization, pure where it can be: who a request is
 * from (certificate, ServiceAccount token, anonymous), what it asks
 * (RequestInfo), whether RBAC allows it and kube's words when not, the
 * ServiceAccount tokens themselves, and the built-in policy. The API server
 * (control/api) wires them into its listeners.
 */
export * from './user.js';
export { requestInfo, type RequestInfo } from './request-info.js';
export {
  authorize,
  rulesFor,
  ruleAllows,
  uncovered,
  appliesTo,
  clusterRoleRules,
  type Attributes,
  type Decision,
  type PolicyRule,
  type RbacSnapshot,
  type Role,
  type RoleBinding,
  type RoleRef,
  type Subject,
} from './rbac.js';
export { forbiddenMessage, forbiddenStatus, UNAUTHORIZED_STATUS } from './forbidden.js';
export { signJwt, verifyJwt, keyId, isJwt } from './jwt.js';
export {
  issueToken,
  tokenClaims,
  authenticateToken,
  DEFAULT_ISSUER,
  DEFAULT_AUDIENCES,
  DEFAULT_EXPIRATION_SECONDS,
  MIN_EXPIRATION_SECONDS,
  type TokenLookups,
  type TokenValidation,
  type BoundObject,
} from './sa-token.js';
export { authenticate, anonymousPathAllowed, type Credentials, type Authentication } from './authenticate.js';
export { impersonate, type Impersonation } from './impersonate.js';
export {
  BUILT_IN_CLUSTER_ROLES,
  BUILT_IN_CLUSTER_ROLE_BINDINGS,
  builtInClusterRoleObjects,
  builtInClusterRoleBindingObjects,
  RBAC_GROUP,
  AUTOUPDATE,
} from './policy.js';
export { RbacCache, RbacIndex, writeThrough, RBAC_PREFIXES } from './rbac-cache.js';
export { AuthError, type AuthErrorCode } from './errors.js';
export { NodeGraph, podReferences, type NodeGraphKind, type PodReferences } from './node-graph.js';
export { nodeAuthorize, nodeIdentity, type NodeDecision } from './node-authorizer.js';
