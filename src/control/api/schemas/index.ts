import type { z } from 'zod';
import { namespace, configMap, secret } from './core.js';

/** Kind -> complete strict schema. The API server serves exactly these kinds. */
export const SCHEMAS: Record<string, z.ZodType> = {
  Namespace: namespace,
  ConfigMap: configMap,
  Secret: secret,
};
