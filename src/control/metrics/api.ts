import http from 'node:http';
import { RESOURCE_TYPES, type ResourceType } from '../api/resources.js';
import { ApiError } from '../api/status.js';
import { kubeletEndpoint } from '../api/pod-log.js';
import { kubeletGet } from '../api/kubelet-client.js';
import type { KubeObject } from '../api/object.js';

/**
 * The Metrics API (metrics.k8s.io/v1beta1, what metrics-server serves and
 * `kubectl top` reads): NodeMetrics and PodMetrics, gathered per request
 * from each node's agent (GET :10250/stats/summary, what it measures of its
 * containers' processes: src/kubelet/metrics-stats.ts), each node given a
 * short timeout so a dead node costs a second, not a hang. Pods and nodes
 * without a fresh measurement are left out, as metrics-server leaves them.
 */
export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const GV = `${METRICS_GROUP}/${METRICS_VERSION}`;
const NODE_TIMEOUT_MS = 2000;

/** The list reads the API server answers from its store. */
export interface MetricsSource {
  list(r: ResourceType, namespace: string | undefined, q: URLSearchParams): Promise<KubeObject[]>;
}

export function metricsGroup(): Record<string, unknown> {
  const v = { groupVersion: GV, version: METRICS_VERSION };
  return { name: METRICS_GROUP, versions: [v], preferredVersion: v };
}

export function metricsResourceList(): Record<string, unknown> {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GV,
    resources: [
      { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
      { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
    ],
  };
}

/** Kubernetes quantities as metrics-server writes them: CPU in nanocores, memory in Ki. */
export const cpuQuantity = (nanoCores: number) => `${Math.max(0, Math.round(nanoCores))}n`;
export const memoryQuantity = (bytes: number) => `${Math.max(0, Math.round(bytes / 1024))}Ki`;

interface Summary {
  windowSeconds?: number;
  node?: { nodeName: string; cpu?: { time?: string; usageNanoCores?: number }; memory?: { workingSetBytes?: number } };
  pods?: {
    podRef: { name: string; namespace: string; uid: string };
    containers: {
      name: string;
      cpu?: { time?: string; usageNanoCores?: number };
      memory?: { workingSetBytes?: number };
    }[];
  }[];
}

export function fetchSummary(node: KubeObject, timeoutMs = NODE_TIMEOUT_MS): Promise<Summary | null> {
  const ep = kubeletEndpoint(node);
  if (!ep) return Promise.resolve(null);
  return new Promise((resolve) => {
    const req = kubeletGet({ host: ep.host, port: ep.port, path: '/stats/summary', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Summary) : null);
        } catch {
          resolve(null);
        }
      });
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

const window = (s: Summary) => `${s.windowSeconds ?? 1}s`;
const meta = (o: KubeObject, ns?: string) => ({
  name: o.metadata.name,
  ...(ns ? { namespace: ns } : {}),
  creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  ...(o.metadata.labels ? { labels: o.metadata.labels } : {}),
});

/** PodMetrics of pods (already listed and filtered by the caller), from their nodes' summaries. */
export function podMetrics(pods: KubeObject[], summaries: Map<string, Summary>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of pods) {
    const s = summaries.get(p.spec?.nodeName ?? '');
    const ps = s?.pods?.find((x) => x.podRef.uid === p.metadata.uid);
    if (!s || !ps || !ps.containers.length) continue;
    out.push({
      metadata: meta(p, p.metadata.namespace),
      timestamp: ps.containers[0].cpu?.time ?? s.node?.cpu?.time,
      window: window(s),
      containers: ps.containers.map((c) => ({
        name: c.name,
        usage: { cpu: cpuQuantity(c.cpu?.usageNanoCores ?? 0), memory: memoryQuantity(c.memory?.workingSetBytes ?? 0) },
      })),
    });
  }
  return out;
}

export function nodeMetrics(nodes: KubeObject[], summaries: Map<string, Summary>): Record<string, unknown>[] {
  return nodes.flatMap((n) => {
    const s = summaries.get(n.metadata.name);
    if (!s?.node) return [];
    return [
      {
        metadata: meta(n),
        timestamp: s.node.cpu?.time,
        window: window(s),
        usage: {
          cpu: cpuQuantity(s.node.cpu?.usageNanoCores ?? 0),
          memory: memoryQuantity(s.node.memory?.workingSetBytes ?? 0),
        },
      },
    ];
  });
}

const type = (kind: string) => RESOURCE_TYPES.find((r) => r.kind === kind)!;

async function summariesOf(nodes: KubeObject[]): Promise<Map<string, Summary>> {
  const got = await Promise.all(nodes.map(async (n) => [n.metadata.name, await fetchSummary(n)] as const));
  return new Map(got.filter((x): x is readonly [string, Summary] => x[1] !== null));
}

/**
 * /apis/metrics.k8s.io/v1beta1/…: the body to answer, or null when the path
 * is not the Metrics API's. Throws ApiError (NotFound) as metrics-server does.
 */
export async function serveMetrics(path: string, q: URLSearchParams, src: MetricsSource): Promise<unknown | null> {
  const base = `/apis/${GV}`;
  if (path === base) return metricsResourceList();
  if (!path.startsWith(`${base}/`)) return null;
  const parts = path
    .slice(base.length + 1)
    .split('/')
    .map(decodeURIComponent);
  let ns: string | undefined;
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    ns = parts[1];
    parts.splice(0, 2);
  }
  const [resource, name, ...rest] = parts;
  if (rest.length) return null;
  if (resource === 'nodes' && ns === undefined) {
    let nodes = await src.list(type('Node'), undefined, q);
    if (name) nodes = nodes.filter((n) => n.metadata.name === name);
    const items = nodeMetrics(nodes, await summariesOf(nodes));
    if (name) {
      if (!items.length) throw notFound('nodemetrics', name);
      return { kind: 'NodeMetrics', apiVersion: GV, ...items[0] };
    }
    return { kind: 'NodeMetricsList', apiVersion: GV, metadata: {}, items };
  }
  if (resource === 'pods') {
    let pods = await src.list(type('Pod'), ns, q);
    if (name) pods = pods.filter((p) => p.metadata.name === name);
    pods = pods.filter((p) => p.spec?.nodeName && p.status?.phase === 'Running');
    const nodeNames = new Set(pods.map((p) => p.spec!.nodeName as string));
    const nodes = (await src.list(type('Node'), undefined, new URLSearchParams())).filter((n) =>
      nodeNames.has(n.metadata.name),
    );
    const items = podMetrics(pods, await summariesOf(nodes));
    if (name) {
      if (!items.length) throw notFound('podmetrics', name);
      return { kind: 'PodMetrics', apiVersion: GV, ...items[0] };
    }
    return { kind: 'PodMetricsList', apiVersion: GV, metadata: {}, items };
  }
  return null;
}

function notFound(resource: string, name: string): ApiError {
  return new ApiError('NotFound', `${resource}.${METRICS_GROUP} "${name}" not found`, {
    name,
    group: METRICS_GROUP,
    kind: resource,
  });
}
