import http from 'node:http';
import { ApiError, errors } from './status.js';
import { kubeletGet } from './kubelet-client.js';

/** The kubelet's port; agents serve container logs there, on the node's InternalIP. */
export const KUBELET_PORT = 10250;

/** A Node's InternalIP: where its agent and its VXLAN endpoint are. */
export function nodeInternalIp(node: Record<string, any>): string | undefined {
  return (node.status?.addresses ?? []).find((a: { type: string }) => a.type === 'InternalIP')?.address;
}

/** Where a node's agent answers: InternalIP and status.daemonEndpoints.kubeletEndpoint.Port. */
export function kubeletEndpoint(node: Record<string, any>): { host: string; port: number } | null {
  const ip = nodeInternalIp(node);
  if (!ip) return null;
  return { host: ip, port: node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? KUBELET_PORT };
}

/**
 * GET pods/{name}/log: as the real API server does, pass the request on to
 * the kubelet of the pod's node (here: its agent) and stream the answer
 * back. `container` may be left out only for one-container pods.
 */
export function proxyPodLog(
  pod: Record<string, any>,
  node: Record<string, any> | null,
  q: URLSearchParams,
  res: http.ServerResponse,
): void {
  const name = pod.metadata.name;
  const containers: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
  let container = q.get('container');
  if (!container) {
    if (containers.length !== 1)
      throw errors.badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
      );
    container = containers[0];
  } else if (
    // any container of the pod may be named: init and ephemeral ones too (kubectl debug falls back to their logs)
    ![...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]
      .map((c: { name: string }) => c.name)
      .concat(containers)
      .includes(container)
  ) {
    throw errors.badRequest(`container ${container} is not valid for pod ${name}`);
  }
  if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} is not scheduled to a node yet`);
  const ep = node ? kubeletEndpoint(node) : null;
  if (!ep)
    throw new ApiError(
      'ServiceUnavailable',
      `node ${pod.spec.nodeName} has no InternalIP: its agent has not registered`,
    );
  const fwd = new URLSearchParams();
  for (const k of ['follow', 'tailLines', 'previous', 'timestamps', 'limitBytes', 'sinceSeconds']) {
    const v = q.get(k);
    if (v !== null) fwd.set(k, v);
  }
  fwd.set('uid', pod.metadata.uid);
  const path = `/containerLogs/${encodeURIComponent(pod.metadata.namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${fwd}`;
  const up = kubeletGet({ host: ep.host, port: ep.port, path, timeout: 10_000 }, (r) => {
    res.writeHead(r.statusCode ?? 502, { 'content-type': r.headers['content-type'] ?? 'text/plain' });
    r.pipe(res);
    res.on('close', () => r.destroy());
  });
  up.on('timeout', () => up.destroy(new Error('timed out')));
  up.on('error', (e) => {
    if (!res.headersSent) {
      const err = new ApiError(
        'ServiceUnavailable',
        `cannot reach the agent of node ${pod.spec.nodeName} at ${ep.host}:${ep.port}: ${e.message}`,
      );
      res.writeHead(err.code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(err.toStatus()));
    } else res.end();
  });
}
