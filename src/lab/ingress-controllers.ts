import fs from 'node:fs';
import type { ApiClient, KubeObject } from '../control/client/index.js';
import { parseControllerArgs, type ControllerArgs } from '../ingress/index.js';
import { parseImage, apiPodKey } from '../kubelet/index.js';
import type { LabState } from './lab.js';

/**
 * The ingress controller pods of a cluster, as `observe` and `trace` need
 * them: every Running pod with a container of ingress-nginx's controller
 * image (what the kubelet runs podwire's controller for, in whatever
 * namespace and under whatever labels it was deployed), its flags read as
 * the controller reads them (classes, ports, --watch-namespace), and the
 * network namespace its node's agent made for it.
 */
export interface ControllerPod {
  namespace: string;
  name: string;
  /** how agents and observe name the pod: "ns/name" ("name" in default) */
  key: string;
  ip: string;
  node: string;
  labels: Record<string, string>;
  args: ControllerArgs;
  /** the pod's netns (undefined when no agent of this lab reports it) */
  netns?: string;
}

const CONTROLLER_REPO = /(^|\/)ingress-nginx\/controller(-chroot)?$/;

export function isControllerImage(image: string): boolean {
  try {
    return CONTROLLER_REPO.test(parseImage(image).repository);
  } catch {
    return false;
  }
}

/** The controller container's flags; the Deployment's $(POD_NAMESPACE) expanded as the kubelet does. Defaults when they do not parse. */
export function controllerArgsOf(pod: KubeObject): ControllerArgs {
  const ns = pod.metadata.namespace ?? 'default';
  const c = (pod.spec?.containers ?? []).find((x: { image?: string }) => isControllerImage(x.image ?? ''));
  const argv: string[] = [...(c?.command ?? []), ...(c?.args ?? [])].map((a: string) =>
    a.replace(/\$\(POD_NAMESPACE\)/g, ns).replace(/\$\(POD_NAME\)/g, pod.metadata.name),
  );
  // drop what comes before the flags: dumb-init and its "--", /nginx-ingress-controller
  let i = 0;
  while (i < argv.length && (!argv[i].startsWith('-') || argv[i] === '--')) i++;
  try {
    return parseControllerArgs(argv.slice(i), { POD_NAMESPACE: ns });
  } catch {
    return parseControllerArgs([], { POD_NAMESPACE: ns });
  }
}

export async function controllerPods(
  client: ApiClient,
  labPodList: { name: string; netns: string; node: string }[] = [],
): Promise<ControllerPod[]> {
  const pods = (await client.list('pods')).items;
  const out: ControllerPod[] = [];
  for (const p of pods) {
    if (p.status?.phase !== 'Running' || !p.status?.podIP || p.metadata.deletionTimestamp) continue;
    if (!(p.spec?.containers ?? []).some((c: { image?: string }) => isControllerImage(c.image ?? ''))) continue;
    const namespace = p.metadata.namespace ?? 'default';
    const key = apiPodKey(namespace, p.metadata.name);
    const lab = labPodList.find((x) => x.name === key);
    out.push({
      namespace,
      name: p.metadata.name,
      key,
      ip: p.status.podIP,
      node: p.spec?.nodeName ?? lab?.node ?? '',
      labels: p.metadata.labels ?? {},
      args: controllerArgsOf(p),
      ...(lab ? { netns: lab.netns } : {}),
    });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The lab's API server (its Unix socket), else $PODWIRE_SERVER; undefined when the lab runs without a control plane. */
export function labApiServer(state: LabState): string | undefined {
  if (fs.existsSync(state.plan.controlPlane.socket)) return `unix:${state.plan.controlPlane.socket}`;
  return process.env.PODWIRE_SERVER || undefined;
}
