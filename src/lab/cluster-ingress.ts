import { stringify } from 'yaml';
import { ApiClient, ApiClientError, type KubeObject } from '../control/client/index.js';
import {
  ingressAddon,
  defaultReplicas,
  INGRESS_NAMESPACE,
  INGRESS_CONTROLLER_NAME,
  INGRESS_LABEL_SELECTOR,
} from '../ingress/index.js';
import type { AddonResult } from './cluster-dns.js';
import type { LabState } from './lab.js';
import { waitFor } from './wait.js';

/**
 * The ingress add-on at start (src/ingress/addon.ts): created where
 * missing — an existing object, perhaps one a learner edited, is left as
 * it is — then, in the lab, waited for: the controller pods Ready and, with
 * the outside's cloud load balancer, the Service's EXTERNAL-IP. `podwire
 * lab up` does it unless --no-ingress; the compose cluster's demo container
 * runs `podwire ingress-addon --apply`.
 */
export async function ensureIngressAddon(client: ApiClient, opts: { replicas?: number } = {}): Promise<AddonResult[]> {
  const out: AddonResult[] = [];
  for (const o of ingressAddon(opts)) {
    const meta = o.metadata as { name: string; namespace?: string };
    try {
      await client.create(o);
      out.push({ kind: String(o.kind), namespace: meta.namespace ?? '', name: meta.name, created: true });
    } catch (e) {
      if (!(e instanceof ApiClientError && e.status === 409)) throw e;
      out.push({ kind: String(o.kind), namespace: meta.namespace ?? '', name: meta.name, created: false });
    }
  }
  return out;
}

/** The objects as one YAML stream (`podwire ingress-addon | kubectl apply -f -`). */
export function ingressAddonYaml(opts: { replicas?: number } = {}): string {
  return ingressAddon(opts)
    .map((o) => stringify(o))
    .join('---\n');
}

const isReady = (p: KubeObject) =>
  !p.metadata.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

/**
 * Apply the add-on in the lab. Waits until the controller pods have their
 * addresses (so pods applied next get the same addresses in every fresh
 * lab); with `ready`, until they are Ready and (with an outside) the
 * Service has its EXTERNAL-IP. Returns that address, if any.
 */
export async function applyIngressAddon(
  state: LabState,
  opts: { ready?: boolean; log?: (m: string) => void } = {},
): Promise<{ result: AddonResult[]; externalIp?: string }> {
  const log = opts.log ?? (() => {});
  const client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  try {
    const result = await ensureIngressAddon(client, { replicas: defaultReplicas(state.plan.nodes.length) });
    const made = result.filter((r) => r.created).length;
    log(
      `ingress: ${made ? `${made} object(s) created` : 'all objects exist'} (namespace ${INGRESS_NAMESPACE}: Deployment and LoadBalancer Service ${INGRESS_CONTROLLER_NAME}, IngressClass nginx, GatewayClass cilium)`,
    );
    const deploy = await client.get('deployments', INGRESS_NAMESPACE, INGRESS_CONTROLLER_NAME);
    const replicas = Number(deploy.spec?.replicas ?? 1);
    const pods = async () =>
      (await client.list('pods', { namespace: INGRESS_NAMESPACE, labelSelector: INGRESS_LABEL_SELECTOR })).items;
    await waitFor(
      'the ingress controller pods to get their addresses',
      60_000,
      async () => (await pods()).filter((p) => p.status?.podIP).length >= replicas,
      100,
    );
    if (!opts.ready || replicas === 0) return { result };
    log('waiting for the ingress controller pods to be Ready');
    await waitFor(
      'the ingress controller pods to be Ready',
      120_000,
      async () => (await pods()).filter(isReady).length >= replicas,
      200,
    );
    let externalIp: string | undefined;
    if (state.outside?.cloudLb) {
      await waitFor(
        `Service ${INGRESS_NAMESPACE}/${INGRESS_CONTROLLER_NAME} to get its EXTERNAL-IP`,
        60_000,
        async () => {
          const svc = await client.get('services', INGRESS_NAMESPACE, INGRESS_CONTROLLER_NAME);
          externalIp = svc.status?.loadBalancer?.ingress?.[0]?.ip;
          return !!externalIp;
        },
        200,
      );
    }
    return { result, externalIp };
  } finally {
    client.close();
  }
}
