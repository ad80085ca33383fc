import type { ApiClient, KubeObject } from '../control/client/index.js';
import { kubernetesServiceEnv } from './service-account.js';

/**
 * A container's environment as the kubelet builds it: identity variables
 * podwire's built-in workloads read, then the spec's `env` in order (plain
 * values, the downward API's fieldRef, configMapKeyRef and secretKeyRef)
 * and `envFrom`. A missing ConfigMap or Secret key is an error the pod
 * shows (CreateContainerConfigError), unless marked optional.
 */
export class ContainerConfigError extends Error {
  readonly code = 'ERR_CONTAINER_CONFIG';
}

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The downward API. The pod's IP is the sandbox's: the API server's copy is not written yet when containers start. */
function fieldRef(pod: KubeObject, ids: { podIp: string; nodeIp: string }, path: string): string {
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return ids.podIp;
    case 'status.hostIP':
    case 'status.hostIPs':
      return ids.nodeIp;
  }
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return pod.metadata[m[1]]?.[m[2]] ?? '';
  throw new ContainerConfigError(`fieldRef "${path}" is not supported`);
}

export async function containerEnv(
  client: ApiClient,
  pod: KubeObject,
  container: Record<string, any>,
  ids: { podIp: string; nodeIp: string; node: string; hostname: string; pathPrepend: string[] },
): Promise<Record<string, string>> {
  const ns = pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {
    PATH: [...ids.pathPrepend, BASE_PATH].join(':'),
    HOME: '/root',
    HOSTNAME: ids.hostname,
    POD_NAME: pod.metadata.name,
    POD_NAMESPACE: ns,
    POD_IP: ids.podIp,
    NODE_NAME: ids.node,
    // the `kubernetes` Service, as every pod gets it: in-cluster clients dial it
    ...kubernetesServiceEnv(),
  };
  const cache = new Map<string, KubeObject | null>();
  const lookup = async (kind: 'configmaps' | 'secrets', name: string): Promise<KubeObject | null> => {
    const k = `${kind}/${name}`;
    if (!cache.has(k)) cache.set(k, await client.tryGet(kind, ns, name));
    return cache.get(k)!;
  };
  const fromRef = async (
    kind: 'configmaps' | 'secrets',
    ref: { name: string; key: string; optional?: boolean },
  ): Promise<string | undefined> => {
    const obj = await lookup(kind, ref.name);
    const what = kind === 'configmaps' ? 'configmap' : 'secret';
    if (!obj) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(`${what} "${ref.name}" not found`);
    }
    const raw = obj.data?.[ref.key] ?? obj.stringData?.[ref.key];
    if (raw === undefined) {
      if (ref.optional) return undefined;
      throw new ContainerConfigError(`couldn't find key ${ref.key} in ${what} ${ns}/${ref.name}`);
    }
    return kind === 'secrets' && obj.data?.[ref.key] !== undefined ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  };
  for (const src of container.envFrom ?? []) {
    const kind = src.configMapRef ? 'configmaps' : 'secrets';
    const ref = src.configMapRef ?? src.secretRef;
    const obj = await lookup(kind, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind === 'configmaps' ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries<string>(obj.data ?? {}))
      env[`${src.prefix ?? ''}${k}`] = kind === 'secrets' ? Buffer.from(v, 'base64').toString('utf8') : v;
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = expand(e.value, env);
    else if (e.valueFrom?.fieldRef) env[e.name] = fieldRef(pod, ids, e.valueFrom.fieldRef.fieldPath);
    else if (e.valueFrom?.configMapKeyRef) {
      const v = await fromRef('configmaps', e.valueFrom.configMapKeyRef);
      if (v !== undefined) env[e.name] = v;
    } else if (e.valueFrom?.secretKeyRef) {
      const v = await fromRef('secrets', e.valueFrom.secretKeyRef);
      if (v !== undefined) env[e.name] = v;
    } else if (e.valueFrom)
      throw new ContainerConfigError(
        `env ${e.name}: only value, fieldRef, configMapKeyRef and secretKeyRef are supported`,
      );
    else env[e.name] = '';
  }
  return env;
}

/** $(VAR) references to earlier variables, as Kubernetes expands them ($$ escapes). */
export function expand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) =>
    m === '$$' ? '$' : name && name in env ? env[name] : m,
  );
}
