import { templateHash } from './hash.js';
import {
  isControlledBy,
  isPodReady,
  isPodTerminal,
  isRunningAndReady,
  isTerminating,
  ownerReferenceTo,
  type KubeObject,
} from './objects.js';

/**
 * The StatefulSet controller, pure. Pods have stable names `<set>-<ordinal>`,
 * spec.hostname = the pod name and spec.subdomain = spec.serviceName (so the
 * headless Service gives each one a DNS name), and labels
 * statefulset.kubernetes.io/pod-name, apps.kubernetes.io/pod-index and
 * controller-revision-hash (`<set>-<hash of the template>`).
 *
 * - OrderedReady (default): ordinal i is created only when 0..i-1 are
 *   Running and Ready; scale down removes the highest ordinal first, one at
 *   a time, and only while all the others are Running and Ready.
 * - Parallel: every missing pod is created and every surplus pod deleted at
 *   once.
 * - RollingUpdate (default strategy): from the highest ordinal down to the
 *   partition, the first pod at an old revision is deleted (and recreated
 *   from the new template by the next sync); the rollout waits until that
 *   pod is Running and Ready again before touching the next. OnDelete: pods
 *   are replaced only when someone deletes them.
 * - A pod that failed is deleted and recreated under the same name.
 *
 * podwire keeps no ControllerRevisions, so a pod is always (re)created from
 * the current template: a pod below the partition that is deleted comes
 * back at the update revision (upstream would restore the old one).
 */
export interface StatefulSetPlan {
  updateRevision: string;
  /** executed in this order: deletions first (a failed pod is recreated with the same name) */
  delete: KubeObject[];
  create: KubeObject[];
  status: Record<string, any>;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
}

export const REVISION_LABEL = 'controller-revision-hash';
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export const revisionOf = (sts: KubeObject): string =>
  `${sts.metadata.name}-${templateHash(sts.spec?.template, sts.status?.collisionCount)}`;

/** The ordinal in a pod's name `<set>-<n>`, or -1. */
export function ordinalOf(sts: KubeObject, pod: KubeObject): number {
  const prefix = `${sts.metadata.name}-`;
  const rest = pod.metadata.name.startsWith(prefix) ? pod.metadata.name.slice(prefix.length) : '';
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : -1;
}

export function statefulSetPod(sts: KubeObject, ordinal: number, revision: string): KubeObject {
  const t = structuredClone(sts.spec.template ?? {});
  const meta = t.metadata ?? {};
  const name = `${sts.metadata.name}-${ordinal}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: sts.metadata.namespace,
      labels: {
        ...(meta.labels ?? {}),
        [REVISION_LABEL]: revision,
        [POD_NAME_LABEL]: name,
        [POD_INDEX_LABEL]: String(ordinal),
      },
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
      ownerReferences: [ownerReferenceTo(sts)],
    },
    spec: { ...t.spec, hostname: name, ...(sts.spec.serviceName ? { subdomain: sts.spec.serviceName } : {}) },
  };
}

export function planStatefulSet(sts: KubeObject, allPods: KubeObject[]): StatefulSetPlan {
  const replicas: number = sts.spec?.replicas ?? 1;
  const start: number = sts.spec?.ordinals?.start ?? 0;
  const parallel = sts.spec?.podManagementPolicy === 'Parallel';
  const updateRevision = revisionOf(sts);
  const owned = allPods.filter((p) => isControlledBy(p, sts) && ordinalOf(sts, p) >= 0);
  const byOrdinal = new Map(owned.map((p) => [ordinalOf(sts, p), p]));
  const del: KubeObject[] = [];
  const create: KubeObject[] = [];
  const events: StatefulSetPlan['events'] = [];
  const doDelete = (p: KubeObject) => {
    del.push(p);
    events.push({
      type: 'Normal',
      reason: 'SuccessfulDelete',
      message: `delete Pod ${p.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
    });
  };
  const doCreate = (ord: number) => {
    const p = statefulSetPod(sts, ord, updateRevision);
    create.push(p);
    events.push({
      type: 'Normal',
      reason: 'SuccessfulCreate',
      message: `create Pod ${p.metadata.name} in StatefulSet ${sts.metadata.name} successful`,
    });
  };

  // 1. The wanted ordinals, lowest first.
  let blocked = false;
  for (let ord = start; ord < start + replicas && !blocked; ord++) {
    let pod = byOrdinal.get(ord);
    if (pod && isPodTerminal(pod)) {
      doDelete(pod);
      pod = undefined;
    }
    if (!pod) {
      doCreate(ord);
      if (!parallel) blocked = true;
      continue;
    }
    if (!parallel && (isTerminating(pod) || !isRunningAndReady(pod))) blocked = true;
  }

  // 2. Surplus ordinals, highest first.
  if (!blocked) {
    const condemned = owned.filter((p) => {
      const o = ordinalOf(sts, p);
      return o < start || o >= start + replicas;
    });
    condemned.sort((a, b) => ordinalOf(sts, b) - ordinalOf(sts, a));
    for (const p of condemned) {
      if (isTerminating(p)) {
        if (!parallel) break;
        continue;
      }
      doDelete(p);
      if (!parallel) break;
    }
    if (condemned.length) blocked = true;
  }

  // 3. Rolling update: highest ordinal first, one pod at a time.
  const strategy = sts.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (!blocked && !create.length && !del.length && strategy === 'RollingUpdate') {
    const partition: number = sts.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
    for (let ord = start + replicas - 1; ord >= start + partition; ord--) {
      const pod = byOrdinal.get(ord);
      if (!pod) break;
      if (pod.metadata.labels?.[REVISION_LABEL] !== updateRevision && !isTerminating(pod)) {
        doDelete(pod);
        break;
      }
      if (!isRunningAndReady(pod)) break; // wait for the replacement to be Ready
    }
  }

  return { updateRevision, delete: del, create, events, status: statefulSetStatus(sts, owned, updateRevision) };
}

function statefulSetStatus(sts: KubeObject, owned: KubeObject[], updateRevision: string): Record<string, any> {
  const prev = sts.status ?? {};
  let currentRevision: string = prev.currentRevision ?? updateRevision;
  const rev = (p: KubeObject) => p.metadata.labels?.[REVISION_LABEL];
  const status: Record<string, any> = {
    observedGeneration: sts.metadata.generation ?? 1,
    replicas: owned.length,
    readyReplicas: owned.filter(isPodReady).length,
    currentReplicas: owned.filter((p) => rev(p) === currentRevision).length,
    updatedReplicas: owned.filter((p) => rev(p) === updateRevision).length,
    availableReplicas: owned.filter(isRunningAndReady).length,
    currentRevision,
    updateRevision,
    collisionCount: prev.collisionCount ?? 0,
  };
  // completeRollingUpdate: every pod at the new revision and ready.
  const strategy = sts.spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (
    strategy === 'RollingUpdate' &&
    status.updatedReplicas === status.replicas &&
    status.readyReplicas === status.replicas
  ) {
    currentRevision = updateRevision;
    status.currentRevision = currentRevision;
    status.currentReplicas = status.updatedReplicas;
  }
  return status;
}
