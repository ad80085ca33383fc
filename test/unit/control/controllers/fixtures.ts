import type { KubeObject } from '../../../../src/control/client/index.js';

/** Objects as the API server would hold them, small enough to read in a test. */
export const T0 = Date.parse('2024-05-01T10:00:00Z');
export const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

let uid = 0;
export const nextUid = (p = 'uid') => `${p}-${++uid}`;

export function node(
  name: string,
  o: {
    ready?: boolean | 'none';
    podCIDR?: string;
    labels?: Record<string, string>;
    unschedulable?: boolean;
    taints?: any[];
    created?: number;
    heartbeat?: string;
  } = {},
): KubeObject {
  const ready = o.ready ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `node-${name}`,
      creationTimestamp: iso(o.created ?? T0),
      labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) },
    },
    spec: {
      ...(o.podCIDR ? { podCIDR: o.podCIDR, podCIDRs: [o.podCIDR] } : {}),
      ...(o.unschedulable ? { unschedulable: true } : {}),
      ...(o.taints ? { taints: o.taints } : {}),
    },
    status: {
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      conditions:
        ready === 'none'
          ? []
          : [
              {
                type: 'Ready',
                status: ready ? 'True' : 'False',
                reason: ready ? 'KubeletReady' : 'KubeletNotReady',
                lastHeartbeatTime: o.heartbeat ?? iso(T0),
                lastTransitionTime: iso(T0),
              },
            ],
    },
  };
}

export interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  node?: string;
  ip?: string;
  ready?: boolean;
  phase?: string;
  owner?: KubeObject;
  created?: number;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  hostname?: string;
  subdomain?: string;
  nodeSelector?: Record<string, string>;
  uid?: string;
}

export function pod(name: string, o: PodOpts = {}): KubeObject {
  const running = o.phase ?? (o.ip ? 'Running' : 'Pending');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? 'default',
      uid: o.uid ?? `pod-${name}`,
      creationTimestamp: iso(o.created ?? T0),
      labels: o.labels ?? {},
      ...(o.owner
        ? {
            ownerReferences: [
              {
                apiVersion: o.owner.apiVersion,
                kind: o.owner.kind,
                name: o.owner.metadata.name,
                uid: o.owner.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec: {
      containers: [{ name: 'c', image: 'nginx', ...(o.ports ? { ports: o.ports } : {}) }],
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
    },
    status: {
      phase: running,
      ...(o.ip ? { podIP: o.ip, podIPs: [{ ip: o.ip }] } : {}),
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: iso(T0) }],
    },
  };
}

/** The pods a plan asked for, as they would look once created, bound, running and (optionally) ready. */
export function realize(planned: KubeObject[], o: { ready?: boolean; created?: number } = {}): KubeObject[] {
  return planned.map((p, i) => ({
    ...p,
    metadata: { ...p.metadata, uid: `pod-${p.metadata.name}`, creationTimestamp: iso((o.created ?? T0) + i * 1000) },
    spec: { ...p.spec, nodeName: 'node1' },
    status: {
      phase: 'Running',
      podIP: `10.244.1.${i + 10}`,
      conditions: [{ type: 'Ready', status: o.ready ? 'True' : 'False', lastTransitionTime: iso(T0) }],
    },
  }));
}

export const setReady = (p: KubeObject, ready = true): KubeObject => ({
  ...p,
  status: {
    ...p.status,
    phase: 'Running',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: iso(T0) }],
  },
});
