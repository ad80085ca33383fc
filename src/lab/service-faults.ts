import fs from 'node:fs';
import path from 'node:path';
import { ApiClient } from '../control/client/index.js';
import type { LabState } from './lab.js';
import type { Scenario } from './faults.js';
import { LabError } from './errors.js';

/**
 * The Service faults a learner meets first, made through the API as a
 * careless edit would make them. What each changed is saved in the lab's
 * state directory, and `lab fix` writes it back. Targets are
 * `[namespace/]name` of a Service (or, for readiness, a Deployment).
 */

const client = (state: LabState) => new ApiClient(`unix:${state.plan.controlPlane.socket}`);
export const split = (target: string): [string, string] => {
  const i = target.indexOf('/');
  return i < 0 ? ['default', target] : [target.slice(0, i), target.slice(i + 1)];
};
const savedFile = (state: LabState, scenario: string, target: string) =>
  path.join(state.plan.stateDir, `broken-${scenario}-${target.replace('/', '_')}.json`);

export function save(state: LabState, scenario: string, target: string, what: unknown): void {
  fs.writeFileSync(savedFile(state, scenario, target), JSON.stringify(what));
}
export function restore<T>(state: LabState, scenario: string, target: string): T {
  const file = savedFile(state, scenario, target);
  const v = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  fs.rmSync(file, { force: true });
  return v;
}

export async function withClient<T>(state: LabState, fn: (c: ApiClient) => Promise<T>): Promise<T> {
  if (!state.apiserver)
    throw new LabError('ERR_NO_CONTROL_PLANE', 'this lab has no control plane (lab up without --no-control-plane)');
  const c = client(state);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Misspell a Service's selector (its first value gets an `x`), after `keep` has the selector as it was. */
export async function misspellSelector(
  c: ApiClient,
  ns: string,
  name: string,
  keep: (selector: Record<string, string>) => void,
): Promise<void> {
  const svc = await c.get('services', ns, name);
  const selector = svc.spec?.selector as Record<string, string> | undefined;
  if (!selector || !Object.keys(selector).length)
    throw new LabError('ERR_FAULT', `service ${ns}/${name} has no selector to misspell`);
  keep(selector);
  const [k, v] = Object.entries(selector)[0];
  await c.patch('services', ns, name, { spec: { selector: { [k]: `${v}x` } } });
}

export const SERVICE_SCENARIOS: Scenario[] = [
  {
    name: 'selector-typo',
    summary: 'misspell a Service’s selector: it selects no pod, so it has no endpoints',
    findWith:
      'podwire get endpoints <service> → <none>; podwire trace <pod> svc/<service> → DROPPED: no-endpoints; curl → connection refused at once',
    target: 'service',
    async break(state, target) {
      const [ns, name] = split(target);
      await withClient(state, (c) =>
        misspellSelector(c, ns, name, (selector) => save(state, 'selector-typo', target, selector)),
      );
    },
    async fix(state, target) {
      const [ns, name] = split(target);
      const selector = restore<Record<string, string>>(state, 'selector-typo', target);
      await withClient(state, (c) => c.patch('services', ns, name, { spec: { selector } }));
    },
  },
  {
    name: 'wrong-targetport',
    summary: 'point a Service’s targetPort at a port no container listens on: the pods answer with resets',
    findWith:
      'podwire observe --service <service> → SYN then RST from the pod; podwire get endpoints shows the wrong port; curl → connection refused',
    target: 'service',
    async break(state, target) {
      const [ns, name] = split(target);
      await withClient(state, async (c) => {
        const svc = await c.get('services', ns, name);
        const ports = svc.spec?.ports as Record<string, unknown>[];
        if (!ports?.length) throw new LabError('ERR_FAULT', `service ${ns}/${name} has no ports`);
        save(state, 'wrong-targetport', target, ports);
        await c.patch('services', ns, name, { spec: { ports: ports.map((p) => ({ ...p, targetPort: 9 })) } });
      });
    },
    async fix(state, target) {
      const [ns, name] = split(target);
      const ports = restore<unknown[]>(state, 'wrong-targetport', target);
      await withClient(state, (c) => c.patch('services', ns, name, { spec: { ports } }));
    },
  },
  {
    name: 'readiness-failing',
    summary:
      'give a Deployment a readiness probe that always fails (and Recreate): its pods run but never become Ready',
    findWith:
      'podwire get pods → 0/1 READY; podwire get endpoints → none ready (notReadyAddresses); podwire describe pod → Readiness probe failed; trace → DROPPED: no-endpoints',
    target: 'deployment',
    async break(state, target) {
      const [ns, name] = split(target);
      await withClient(state, async (c) => {
        const d = await c.get('deployments', ns, name);
        const spec = d.spec as Record<string, any>;
        save(state, 'readiness-failing', target, {
          strategy: spec.strategy ?? null,
          containers: spec.template.spec.containers,
        });
        const containers = (spec.template.spec.containers as Record<string, any>[]).map((ct, i) =>
          i === 0
            ? { ...ct, readinessProbe: { exec: { command: ['false'] }, periodSeconds: 2, failureThreshold: 1 } }
            : ct,
        );
        await c.update({
          ...d,
          spec: {
            ...spec,
            strategy: { type: 'Recreate' },
            template: { ...spec.template, spec: { ...spec.template.spec, containers } },
          },
        });
      });
    },
    async fix(state, target) {
      const [ns, name] = split(target);
      const saved = restore<{ strategy: unknown; containers: unknown[] }>(state, 'readiness-failing', target);
      await withClient(state, async (c) => {
        const d = await c.get('deployments', ns, name);
        const spec = d.spec as Record<string, any>;
        await c.update({
          ...d,
          spec: {
            ...spec,
            strategy: saved.strategy ?? undefined,
            template: { ...spec.template, spec: { ...spec.template.spec, containers: saved.containers } },
          },
        });
      });
    },
  },
  {
    name: 'etp-local',
    summary:
      'set externalTrafficPolicy Local on a NodePort/LoadBalancer Service and scale its Deployment (same name) to 1: nodes without its pod drop NodePort traffic',
    findWith:
      'podwire drops → etp-local-no-endpoint on the nodes without a pod; podwire lb show <service> (localOnly, no usable backends there)',
    target: 'service',
    async break(state, target) {
      const [ns, name] = split(target);
      await withClient(state, async (c) => {
        const svc = await c.get('services', ns, name);
        if (svc.spec?.type !== 'NodePort' && svc.spec?.type !== 'LoadBalancer')
          throw new LabError(
            'ERR_FAULT',
            `service ${ns}/${name} is ${svc.spec?.type}: only NodePort and LoadBalancer have an external traffic policy`,
          );
        const d = await c.tryGet('deployments', ns, name);
        save(state, 'etp-local', target, {
          etp: svc.spec?.externalTrafficPolicy ?? 'Cluster',
          replicas: d?.spec?.replicas ?? null,
        });
        await c.patch('services', ns, name, { spec: { externalTrafficPolicy: 'Local' } });
        if (d) await c.patch('deployments', ns, name, { spec: { replicas: 1 } });
      });
    },
    async fix(state, target) {
      const [ns, name] = split(target);
      const saved = restore<{ etp: string; replicas: number | null }>(state, 'etp-local', target);
      await withClient(state, async (c) => {
        await c.patch('services', ns, name, { spec: { externalTrafficPolicy: saved.etp, healthCheckNodePort: null } });
        if (saved.replicas !== null) await c.patch('deployments', ns, name, { spec: { replicas: saved.replicas } });
      });
    },
  },
];
