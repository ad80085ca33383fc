import { z } from 'zod';
import { typeMeta, conditions, objectReference } from './meta.js';

export const namespace = z.strictObject({
  ...typeMeta,
  spec: z.strictObject({ finalizers: z.array(z.string()).optional() }).optional(),
  status: z.strictObject({ phase: z.string().optional(), conditions }).optional(),
});

export const configMap = z.strictObject({
  ...typeMeta,
  data: z.record(z.string(), z.string()).optional(),
  binaryData: z.record(z.string(), z.string()).optional(),
  immutable: z.boolean().optional(),
});

export const secret = z.strictObject({
  ...typeMeta,
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
  type: z.string().optional(),
  immutable: z.boolean().optional(),
});

/** core/v1 Event: what controllers and agents report about an object (kubectl describe shows them). */
export const event = z.strictObject({
  ...typeMeta,
  involvedObject: objectReference,
  reason: z.string().optional(),
  message: z.string().optional(),
  source: z.strictObject({ component: z.string().optional(), host: z.string().optional() }).optional(),
  firstTimestamp: z.string().nullable().optional(),
  lastTimestamp: z.string().nullable().optional(),
  count: z.number().int().optional(),
  type: z.enum(['Normal', 'Warning']).optional(),
  eventTime: z.string().nullable().optional(),
  series: z.strictObject({ count: z.number().int().optional(), lastObservedTime: z.string().optional() }).optional(),
  action: z.string().optional(),
  related: objectReference.optional(),
  reportingComponent: z.string().optional(),
  reportingInstance: z.string().optional(),
});
