import { stringify } from 'yaml';
import { ApiClient, ApiClientError, type KubeObject } from '../control/client/index.js';
import { corednsAddon } from '../dns/index.js';
import type { LabState } from './lab.js';
import { waitFor } from './wait.js';

/**
 * The cluster DNS add-on at start, as kubeadm's `addon coredns` phase
 * installs it: the objects of src/dns/addon.ts created when missing (an
 * existing one, perhaps a learner's edited Corefile, is left as it is).
 * `podwire lab up` does it unless --no-dns; the compose cluster's demo
 * container runs `podwire dns-addon`.
 */
export interface AddonResult {
  kind: string;
  namespace: string;
  name: string;
  created: boolean;
}

const labelSelector = 'k8s-app=kube-dns';

export async function ensureClusterDns(client: ApiClient): Promise<AddonResult[]> {
  const out: AddonResult[] = [];
  for (const o of corednsAddon()) {
    const meta = o.metadata as { name: string; namespace: string };
    try {
      await client.create(o);
      out.push({ kind: String(o.kind), namespace: meta.namespace, name: meta.name, created: true });
    } catch (e) {
      if (!(e instanceof ApiClientError && e.status === 409)) throw e;
      out.push({ kind: String(o.kind), namespace: meta.namespace, name: meta.name, created: false });
    }
  }
  return out;
}

/** The objects as one YAML stream (`podwire dns-addon --print | kubectl apply -f -`). */
export function clusterDnsYaml(): string {
  return corednsAddon()
    .map((o) => stringify(o))
    .join('---\n');
}

/** `configmap/coredns created` or `… unchanged (it exists)`, kubectl's words. */
export function addonLines(r: AddonResult[]): string[] {
  return r.map((x) => `${x.kind.toLowerCase()}/${x.name} ${x.created ? 'created' : 'unchanged (it exists)'}`);
}

const hasIp = (p: KubeObject) => !!p.status?.podIP;
const readyAddresses = (ep: KubeObject | null) =>
  (ep?.subsets ?? []).reduce((n: number, s: { addresses?: unknown[] }) => n + (s.addresses?.length ?? 0), 0);

/**
 * Apply the add-on in the lab and wait until its pods have their addresses
 * (so pods applied next get the same addresses in every fresh lab); with
 * `ready`, also until kube-dns has ready endpoints (DNS answers).
 */
export async function applyClusterDns(
  state: LabState,
  opts: { ready?: boolean; log?: (m: string) => void } = {},
): Promise<AddonResult[]> {
  const log = opts.log ?? (() => {});
  const client = new ApiClient(`unix:${state.plan.controlPlane.socket}`);
  try {
    const result = await ensureClusterDns(client);
    log(`cluster DNS: ${addonLines(result).join(', ')} (kube-system; kube-dns 10.96.0.10)`);
    const deploy = await client.get('deployments', 'kube-system', 'coredns');
    const replicas = Number(deploy.spec?.replicas ?? 1);
    await waitFor(
      'the CoreDNS pods to get their addresses',
      60_000,
      async () => {
        const pods = (await client.list('pods', { namespace: 'kube-system', labelSelector })).items;
        return pods.filter(hasIp).length >= replicas;
      },
      100,
    );
    if (opts.ready && replicas > 0) {
      log('waiting for kube-dns to have ready endpoints');
      await waitFor(
        'kube-dns to have ready endpoints (the CoreDNS pods Ready)',
        120_000,
        async () => readyAddresses(await client.tryGet('endpoints', 'kube-system', 'kube-dns')) > 0,
        250,
      );
    }
    return result;
  } finally {
    client.close();
  }
}
