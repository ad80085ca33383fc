import { z } from 'zod';
import { typeMeta, conditions } from './meta.js';

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
