import { z } from 'zod';

/**
 * Pieces every schema shares. All objects are strict: an unknown field is
 * an error, so a schema must list every field Kubernetes accepts for its
 * kind, or valid manifests would be refused.
 */
export const ownerReference = z.strictObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

export const objectMeta = z.strictObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullable().optional(),
  deletionTimestamp: z.string().nullable().optional(),
  deletionGracePeriodSeconds: z.number().int().optional(),
  ownerReferences: z.array(ownerReference).optional(),
  finalizers: z.array(z.string()).optional(),
  managedFields: z.array(z.unknown()).optional(),
  selfLink: z.string().optional(),
});

/** apiVersion, kind, metadata: the top of every object. */
export const typeMeta = { apiVersion: z.string(), kind: z.string(), metadata: objectMeta };

/** metav1.LabelSelector */
export const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string(),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

/** intstr.IntOrString: a port number or a port name. */
export const intOrString = z.union([z.number().int(), z.string()]);

export const protocol = z.enum(['TCP', 'UDP', 'SCTP']);

/** metav1.Condition and the older per-type conditions: accepted as data, not interpreted. */
export const conditions = z.array(z.record(z.string(), z.unknown())).optional();

/** A quantity like "100m" or "1Gi", or a number. */
export const quantity = z.union([z.string(), z.number()]);

/** core/v1 ObjectReference (Endpoints' targetRef, Events' involvedObject). */
export const objectReference = z.strictObject({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});
