import { z } from 'zod';
import { typeMeta, labelSelector, intOrString } from './meta.js';
import { podTemplateSpec } from './core-workloads.js';

const i32 = z.number().int();
const opaque = z.record(z.string(), z.unknown());

export const deployment = z.strictObject({
  ...typeMeta,
  spec: z.strictObject({
    replicas: i32.min(0).optional(),
    selector: labelSelector,
    template: podTemplateSpec,
    strategy: z
      .strictObject({
        type: z.enum(['RollingUpdate', 'Recreate']).optional(),
        rollingUpdate: z
          .strictObject({ maxSurge: intOrString.optional(), maxUnavailable: intOrString.optional() })
          .optional(),
      })
      .optional(),
    minReadySeconds: i32.optional(),
    revisionHistoryLimit: i32.optional(),
    paused: z.boolean().optional(),
    progressDeadlineSeconds: i32.optional(),
  }),
  status: opaque.optional(),
});

export const statefulSet = z.strictObject({
  ...typeMeta,
  spec: z.strictObject({
    replicas: i32.min(0).optional(),
    selector: labelSelector,
    template: podTemplateSpec,
    serviceName: z.string().optional(),
    volumeClaimTemplates: z.array(opaque).optional(),
    podManagementPolicy: z.enum(['OrderedReady', 'Parallel']).optional(),
    updateStrategy: z
      .strictObject({
        type: z.enum(['RollingUpdate', 'OnDelete']).optional(),
        rollingUpdate: z.strictObject({ partition: i32.optional(), maxUnavailable: intOrString.optional() }).optional(),
      })
      .optional(),
    revisionHistoryLimit: i32.optional(),
    minReadySeconds: i32.optional(),
    persistentVolumeClaimRetentionPolicy: z
      .strictObject({ whenDeleted: z.string().optional(), whenScaled: z.string().optional() })
      .optional(),
    ordinals: z.strictObject({ start: i32.optional() }).optional(),
  }),
  status: opaque.optional(),
});

/** apps/v1 ReplicaSet: what a Deployment rolls out through (one per pod template). */
export const replicaSet = z.strictObject({
  ...typeMeta,
  spec: z.strictObject({
    replicas: i32.min(0).optional(),
    minReadySeconds: i32.optional(),
    selector: labelSelector,
    template: podTemplateSpec.optional(),
  }),
  status: opaque.optional(),
});
