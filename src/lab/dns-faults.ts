import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient, KubeObject } from '../control/client/index.js';
import { CLUSTER_DNS_IP } from '../dns/index.js';
import type { LabState } from './lab.js';
import type { Scenario } from './faults.js';
import { split, save, restore, withClient, misspellSelector } from './service-faults.js';
import { waitFor } from './wait.js';
import { LabError } from './errors.js';

/**
 * Cluster DNS faults: the ways "DNS fails" in the articles' ladder (DNS
 * first, then endpoints, then connectivity). Three break the add-on for
 * every pod, made through the API as a careless `kubectl edit` or `scale`
 * would; one breaks a single pod's resolver. Targets default to the
 * add-on's objects in kube-system.
 *
 *   coredns-down      Deployment coredns scaled to 0: kube-dns has no
 *                     endpoints, queries get ICMP port unreachable at once
 *   corefile-error    a misspelled plugin in the ConfigMap's Corefile: the
 *                     reload fails with its line in CoreDNS's log, and the
 *                     running configuration keeps serving (DNS still works:
 *                     the finding is in the logs, before a restart turns it
 *                     into CrashLoopBackOff)
 *   dns-port-blocked  one pod's /etc/resolv.conf names 10.96.0.11, where no
 *                     Service listens: its queries are dropped by its node's
 *                     agent as no-service-port (10.96.0.11:53/UDP) and
 *                     refused, while every other pod resolves. Made in the
 *                     file the kubelet wrote for the pod (the one every
 *                     container has bind-mounted over /etc/resolv.conf),
 *                     rewritten in place, as a wrong dnsConfig or a baked-in
 *                     resolv.conf would leave it.
 *   dns-no-endpoints  kube-dns's selector misspelled: CoreDNS runs and is
 *                     Ready, but kube-dns selects nothing (trace to
 *                     10.96.0.10:53/udp: no-endpoints (kube-system/kube-dns))
 */
const DEPLOYMENT = 'kube-system/coredns';
const CONFIGMAP = 'kube-system/coredns';
const SERVICE = 'kube-system/kube-dns';
/** where dns-port-blocked points a pod: in the Service range, no Service there */
export const UNANSWERED_NAMESERVER = '10.96.0.11';
/** corefile-error's edit: one plugin misspelled */
const MISSPELT = { plugin: 'cache', as: 'cahce' };

const readyAddresses = (ep: KubeObject | null) =>
  (ep?.subsets ?? []).reduce((n: number, s: { addresses?: unknown[] }) => n + (s.addresses?.length ?? 0), 0);

/** Until kube-dns has ready endpoints (want: true) or none (false). */
async function kubeDnsEndpoints(c: ApiClient, want: boolean, timeoutMs: number): Promise<void> {
  await waitFor(
    want ? 'kube-dns to have ready endpoints again' : 'kube-dns to lose its endpoints',
    timeoutMs,
    async () => readyAddresses(await c.tryGet('endpoints', 'kube-system', 'kube-dns')) > 0 === want,
    200,
  );
}

/** The Corefile with MISSPELT's plugin misspelled on its first line, and that line (1-based); null when it has no such plugin. */
export function misspellCorefile(text: string): { text: string; line: number } | null {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => new RegExp(`^\\s*${MISSPELT.plugin}(\\s|$|\\{)`).test(l));
  if (i < 0) return null;
  lines[i] = lines[i].replace(MISSPELT.plugin, MISSPELT.as);
  return { text: lines.join('\n'), line: i + 1 };
}

/** The kubelet's resolv.conf of a pod: <node state>/pods/<uid>/etc.pod/resolv.conf (see kubelet/runtime.ts). */
async function podResolvConf(state: LabState, c: ApiClient, target: string): Promise<string> {
  const [ns, name] = split(target);
  const pod = await c.tryGet('pods', ns, name);
  if (!pod) throw new LabError('ERR_NO_SUCH_POD', `pod ${ns}/${name} not found`);
  const node = state.plan.nodes.find((n) => n.name === pod.spec?.nodeName);
  if (!node) throw new LabError('ERR_NO_SUCH_POD', `pod ${ns}/${name} is not on a node of lab ${state.plan.prefix}`);
  const file = path.join(node.stateDir, 'pods', pod.metadata.uid!, 'etc.pod', 'resolv.conf');
  if (!fs.existsSync(file)) throw new LabError('ERR_FAULT', `pod ${ns}/${name} has no resolv.conf yet (${file})`);
  return file;
}

/** The pod's resolv.conf with UNANSWERED_NAMESERVER as its only nameserver (search and options kept). */
export function blockedResolvConf(text: string): string {
  const lines = text.split('\n').filter((l) => !/^\s*nameserver\s/.test(l));
  const at = lines.findIndex((l) => /^\s*options\s/.test(l));
  lines.splice(
    at < 0 ? lines.length - (lines[lines.length - 1] === '' ? 1 : 0) : at,
    0,
    `nameserver ${UNANSWERED_NAMESERVER}`,
  );
  return lines.join('\n');
}

/** Rewrite in place: the containers have this inode bind-mounted, a new file would not be seen. */
function rewriteInPlace(file: string, text: string): void {
  fs.writeFileSync(file, text);
}

export const DNS_SCENARIOS: Scenario[] = [
  {
    name: 'coredns-down',
    summary: 'scale the CoreDNS Deployment to 0: kube-dns has no endpoints, every lookup in every pod fails',
    findWith:
      'nslookup → connection refused / no servers could be reached; podwire get pods -n kube-system -l k8s-app=kube-dns → none; podwire get endpoints -n kube-system kube-dns → <none>; podwire describe deploy -n kube-system coredns → 0 replicas',
    target: 'deployment',
    defaultTarget: DEPLOYMENT,
    async break(state, target) {
      const [ns, name] = split(target);
      await withClient(state, async (c) => {
        const d = await c.get('deployments', ns, name);
        save(state, 'coredns-down', target, { replicas: d.spec?.replicas ?? 1 });
        await c.patch('deployments', ns, name, { spec: { replicas: 0 } });
        if (target === DEPLOYMENT) {
          await kubeDnsEndpoints(c, false, 30_000);
          // CoreDNS's lameduck (health { lameduck 5s }): a terminating pod keeps answering, and with no
          // ready endpoint left the agents send queries to it (kube-proxy's fallback to serving
          // terminating endpoints, KEP-1669) — the fault is there once the pods are gone
          await waitFor(
            'the terminating CoreDNS pods to finish their lameduck and go',
            30_000,
            async () => {
              const slices = await c.list('endpointslices', {
                namespace: 'kube-system',
                labelSelector: 'kubernetes.io/service-name=kube-dns',
              });
              return slices.items.every((sl) => (sl.endpoints ?? []).length === 0);
            },
            200,
          );
        }
      });
    },
    async fix(state, target) {
      const [ns, name] = split(target);
      const saved = restore<{ replicas: number }>(state, 'coredns-down', target);
      await withClient(state, async (c) => {
        await c.patch('deployments', ns, name, { spec: { replicas: saved.replicas } });
        if (target === DEPLOYMENT && saved.replicas > 0) await kubeDnsEndpoints(c, true, 90_000);
      });
    },
  },
  {
    name: 'corefile-error',
    summary: `misspell a plugin in the coredns ConfigMap's Corefile (${MISSPELT.plugin} → ${MISSPELT.as}): the reload fails, the old configuration keeps serving`,
    findWith: `podwire logs -n kube-system -l k8s-app=kube-dns → [ERROR] Corefile:<line>: unknown plugin '${MISSPELT.as}' (reload failed …); DNS still answers — until a CoreDNS pod restarts`,
    target: 'configmap',
    defaultTarget: CONFIGMAP,
    async break(state, target) {
      const [ns, name] = split(target);
      await withClient(state, async (c) => {
        const cm = await c.get('configmaps', ns, name);
        const text = cm.data?.Corefile;
        if (typeof text !== 'string') throw new LabError('ERR_FAULT', `configmap ${ns}/${name} has no key Corefile`);
        const bad = misspellCorefile(text);
        if (!bad)
          throw new LabError(
            'ERR_FAULT',
            `configmap ${ns}/${name}: its Corefile has no ${MISSPELT.plugin} plugin to misspell`,
          );
        const pods = (await c.list('pods', { namespace: ns, labelSelector: 'k8s-app=kube-dns' })).items.filter(
          (p) => p.status?.phase === 'Running',
        );
        const errorsIn = async (p: KubeObject) =>
          (await c.text(`/api/v1/namespaces/${ns}/pods/${p.metadata.name}/log`).catch(() => '')).split(
            `Corefile:${bad.line}:`,
          ).length - 1;
        const before = await Promise.all(pods.map(errorsIn));
        save(state, 'corefile-error', target, { Corefile: text });
        await c.patch('configmaps', ns, name, { data: { Corefile: bad.text } });
        // until the running CoreDNS pods have read it (and refused it): their logs say so
        await waitFor(
          'CoreDNS to report the Corefile error',
          15_000,
          async () => (await Promise.all(pods.map(errorsIn))).every((n, i) => n > before[i]),
          250,
        ).catch(() => {});
      });
    },
    async fix(state, target) {
      const [ns, name] = split(target);
      const saved = restore<{ Corefile: string }>(state, 'corefile-error', target);
      await withClient(state, (c) => c.patch('configmaps', ns, name, { data: { Corefile: saved.Corefile } }));
    },
  },
  {
    name: 'dns-port-blocked',
    summary: `point one pod's /etc/resolv.conf at ${UNANSWERED_NAMESERVER}, where no Service listens: its DNS queries are dropped and refused, other pods resolve`,
    findWith: `podwire exec <pod> -- cat /etc/resolv.conf → nameserver ${UNANSWERED_NAMESERVER}; podwire drops → no-service-port (${UNANSWERED_NAMESERVER}:53/UDP) on the pod's node; nslookup from another pod works`,
    target: 'pod',
    async break(state, target) {
      await withClient(state, async (c) => {
        const file = await podResolvConf(state, c, target);
        const text = fs.readFileSync(file, 'utf8');
        save(state, 'dns-port-blocked', target, { file, text });
        rewriteInPlace(file, blockedResolvConf(text));
      });
    },
    async fix(state, target) {
      const saved = restore<{ file: string; text: string }>(state, 'dns-port-blocked', target);
      if (fs.existsSync(saved.file)) rewriteInPlace(saved.file, saved.text);
    },
  },
  {
    name: 'dns-no-endpoints',
    summary: 'misspell the kube-dns Service’s selector: CoreDNS runs and is Ready, but the Service selects none of it',
    findWith: `podwire get endpoints -n kube-system kube-dns → <none> while podwire get pods -n kube-system shows CoreDNS Running; podwire trace <pod> ${CLUSTER_DNS_IP}:53/udp → DROPPED: no-endpoints (kube-system/kube-dns); nslookup → connection refused (${CLUSTER_DNS_IP} answers ICMP port unreachable)`,
    target: 'service',
    defaultTarget: SERVICE,
    async break(state, target) {
      const [ns, name] = split(target);
      await withClient(state, async (c) => {
        await misspellSelector(c, ns, name, (selector) => save(state, 'dns-no-endpoints', target, selector));
        if (target === SERVICE) await kubeDnsEndpoints(c, false, 30_000);
      });
    },
    async fix(state, target) {
      const [ns, name] = split(target);
      const selector = restore<Record<string, string>>(state, 'dns-no-endpoints', target);
      await withClient(state, async (c) => {
        await c.patch('services', ns, name, { spec: { selector } });
        if (target === SERVICE) await kubeDnsEndpoints(c, true, 30_000);
      });
    },
  },
];
