import { z } from 'zod';
import { typeMeta, protocol } from './meta.js';

/**
 * discovery.k8s.io/v1 EndpointSlice, as in k8s.io/api/discovery/v1/types.go,
 * with the size limits of Kubernetes' validation (pkg/apis/discovery/validation).
 * An EndpointSlice has no spec: addressType, endpoints and ports sit at the
 * top. endpoints and ports may be null, as the EndpointSlice controller
 * writes them for a Service without ready pods or without ports.
 *
 * Kubernetes decodes a JSON null as "not set", so every optional field may be null.
 */
const opt = <T extends z.ZodType>(s: T) => s.nullish();

/** core/v1 ObjectReference */
const objectReference = z.strictObject({
  kind: opt(z.string()),
  namespace: opt(z.string()),
  name: opt(z.string()),
  uid: opt(z.string()),
  apiVersion: opt(z.string()),
  resourceVersion: opt(z.string()),
  fieldPath: opt(z.string()),
});

const endpoint = z.strictObject({
  addresses: z.array(z.string()).min(1, 'Required value: must contain at least 1 address').max(100),
  conditions: opt(
    z.strictObject({
      ready: opt(z.boolean()),
      serving: opt(z.boolean()),
      terminating: opt(z.boolean()),
    }),
  ),
  hostname: opt(z.string()),
  targetRef: opt(objectReference),
  // From v1beta1; kept by the v1 type, though writes to it are ignored.
  deprecatedTopology: opt(z.record(z.string(), z.string())),
  nodeName: opt(z.string()),
  zone: opt(z.string()),
  hints: opt(
    z.strictObject({
      forZones: opt(z.array(z.strictObject({ name: z.string() })).max(8)),
      forNodes: opt(z.array(z.strictObject({ name: z.string() })).max(8)),
    }),
  ),
});

const endpointPort = z.strictObject({
  name: opt(z.string()),
  protocol: opt(protocol),
  port: opt(z.number().int()),
  appProtocol: opt(z.string()),
});

export const endpointSlice = z.strictObject({
  ...typeMeta,
  addressType: z.enum(['IPv4', 'IPv6', 'FQDN']),
  endpoints: opt(z.array(endpoint).max(1000)),
  ports: opt(
    z
      .array(endpointPort)
      .max(100)
      .superRefine((ps, ctx) => {
        const seen = new Set<string>();
        ps.forEach((p, i) => {
          const name = p.name ?? '';
          if (seen.has(name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              input: name,
              message: `Duplicate value: ${JSON.stringify(name)}`,
            });
          seen.add(name);
        });
      }),
  ),
});
