import { z } from 'zod';
import { typeMeta, labelSelector, objectReference } from './meta.js';

/**
 * rbac.authorization.k8s.io/v1 (k8s.io/api/rbac/v1), core/v1 ServiceAccount,
 * and the create-only review kinds of authorization.k8s.io/v1 and
 * authentication.k8s.io/v1 with TokenRequest. Field shapes only; the rules
 * upstream's validation adds (a rule's verbs, resource rules vs URLs,
 * roleRef and subject kinds) are in rbac-validation.ts.
 */
const strings = z.array(z.string()).nullish();

export const policyRule = z.strictObject({
  verbs: z.array(z.string()).nullish(),
  apiGroups: strings,
  resources: strings,
  resourceNames: strings,
  nonResourceURLs: strings,
});

export const role = z.strictObject({ ...typeMeta, rules: z.array(policyRule).nullish() });

export const clusterRole = z.strictObject({
  ...typeMeta,
  rules: z.array(policyRule).nullish(),
  aggregationRule: z.strictObject({ clusterRoleSelectors: z.array(labelSelector).nullish() }).nullish(),
});

const subject = z.strictObject({
  kind: z.string(),
  apiGroup: z.string().optional(),
  name: z.string(),
  namespace: z.string().optional(),
});

const roleRef = z.strictObject({ apiGroup: z.string().optional(), kind: z.string(), name: z.string() });

export const roleBinding = z.strictObject({ ...typeMeta, subjects: z.array(subject).nullish(), roleRef });
export const clusterRoleBinding = roleBinding;

export const serviceAccount = z.strictObject({
  ...typeMeta,
  secrets: z.array(objectReference).nullish(),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().optional() })).nullish(),
  automountServiceAccountToken: z.boolean().nullish(),
});

const resourceAttributes = z.strictObject({
  namespace: z.string().optional(),
  verb: z.string().optional(),
  group: z.string().optional(),
  version: z.string().optional(),
  resource: z.string().optional(),
  subresource: z.string().optional(),
  name: z.string().optional(),
  // selectors (1.31+): accepted, not used to narrow the answer
  fieldSelector: z.record(z.string(), z.unknown()).optional(),
  labelSelector: z.record(z.string(), z.unknown()).optional(),
});

const nonResourceAttributes = z.strictObject({ path: z.string().optional(), verb: z.string().optional() });

const opaque = z.record(z.string(), z.unknown());

/** the reviews are answered, not stored: no name needed */
const reviewMeta = { apiVersion: z.string(), kind: z.string(), metadata: typeMeta.metadata.optional() };

export const selfSubjectAccessReview = z.strictObject({
  ...reviewMeta,
  spec: z.strictObject({
    resourceAttributes: resourceAttributes.nullish(),
    nonResourceAttributes: nonResourceAttributes.nullish(),
  }),
  status: opaque.optional(),
});

export const selfSubjectRulesReview = z.strictObject({
  ...reviewMeta,
  spec: z.strictObject({ namespace: z.string().optional() }),
  status: opaque.optional(),
});

export const selfSubjectReview = z.strictObject({ ...reviewMeta, status: opaque.optional() });

/** authentication.k8s.io/v1 TokenRequest (the serviceaccounts/token subresource's body) */
export const tokenRequest = z.strictObject({
  ...reviewMeta,
  spec: z.strictObject({
    audiences: z.array(z.string()).nullish(),
    expirationSeconds: z.number().int().nullish(),
    boundObjectRef: z
      .strictObject({
        kind: z.string().optional(),
        apiVersion: z.string().optional(),
        name: z.string().optional(),
        uid: z.string().optional(),
      })
      .nullish(),
  }),
  status: opaque.optional(),
});

export const RBAC_SCHEMAS: Record<string, z.ZodType> = {
  ServiceAccount: serviceAccount,
  Role: role,
  ClusterRole: clusterRole,
  RoleBinding: roleBinding,
  ClusterRoleBinding: clusterRoleBinding,
  SelfSubjectAccessReview: selfSubjectAccessReview,
  SelfSubjectRulesReview: selfSubjectRulesReview,
  SelfSubjectReview: selfSubjectReview,
};
