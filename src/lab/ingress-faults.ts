import fs from 'node:fs';
import path from 'node:path';
import type { ApiClient, KubeObject } from '../control/client/index.js';
import { execaRunner } from '../host/index.js';
import { controllerPods } from './ingress-controllers.js';
import { labPods } from './pods.js';
import type { LabState } from './lab.js';
import type { Scenario } from './faults.js';
import { split, withClient } from './service-faults.js';
import { waitFor } from './wait.js';
import { LabError } from './errors.js';

/**
 * Ingress faults: the three mistakes issue #14 names, each made on an
 * existing Ingress (target `[namespace/]name`, default the articles'
 * `app-ingress`) as a careless edit would make it:
 *
 *   ingress-backend-missing    a path's backend Service misspelled: the
 *                              controller answers 503 with the reason and
 *                              records a Warning (ServiceNotFound)
 *   ingress-tls-secret-missing the TLS Secret the Ingress names deleted: the
 *                              host gets the controller's default ("Fake")
 *                              certificate, and a Warning (SecretNotFound)
 *   ingress-exact-not-prefix   a Prefix path made Exact: /api still works,
 *                              /api/users no longer matches it (404, or
 *                              the / path's backend answers)
 *
 * What each changed is saved in the lab's state directory and `lab fix`
 * puts it back (the Secret as it was, so a certificate a learner saved
 * still verifies). Break and fix return once every controller pod serves
 * the change — read over its own loopback, inside its network namespace,
 * as observe's relay does: its /podwire/routes, or the certificate it
 * presents for the host's SNI.
 */
type Obj = Record<string, any>;

export const INGRESS_DEFAULT_TARGET = 'app-ingress';

/** Where a path sits in spec.rules, and what it is. */
export interface PathAt {
  rule: number;
  index: number;
  host: string;
  path: string;
  pathType: string;
  service?: string;
}

export function ingressPaths(ing: Obj): PathAt[] {
  const out: PathAt[] = [];
  (ing.spec?.rules ?? []).forEach((r: Obj, rule: number) =>
    (r.http?.paths ?? []).forEach((p: Obj, index: number) =>
      out.push({
        rule,
        index,
        host: r.host ?? '',
        path: p.path ?? '/',
        pathType: p.pathType ?? 'ImplementationSpecific',
        service: p.backend?.service?.name,
      }),
    ),
  );
  return out;
}

/** A typo: two neighbouring letters past the middle swapped ("api-service" → "api-srevice"); an x appended when no pair differs. */
export function misspell(name: string): string {
  for (let i = Math.floor(name.length / 2); i + 1 < name.length; i++) {
    const [a, b] = [name[i], name[i + 1]];
    if (a !== b && /[a-z]/.test(a) && /[a-z]/.test(b)) return name.slice(0, i) + b + a + name.slice(i + 2);
  }
  return `${name}x`;
}

/** The path whose Service ingress-backend-missing misspells: the first with a Service backend. */
export function backendMissingPath(ing: Obj): PathAt {
  const p = ingressPaths(ing).find((x) => x.service);
  if (!p) throw new LabError('ERR_FAULT', `Ingress ${key(ing)} has no path with a Service backend`);
  return p;
}

/** The path ingress-exact-not-prefix makes Exact: the first Prefix path below / (where Exact changes what matches). */
export function exactNotPrefixPath(ing: Obj): PathAt {
  const p = ingressPaths(ing).find((x) => x.pathType === 'Prefix' && x.path !== '/');
  if (!p) throw new LabError('ERR_FAULT', `Ingress ${key(ing)} has no Prefix path other than /`);
  return p;
}

/** The Secret ingress-tls-secret-missing takes away: the first spec.tls entry's, and the first host it serves. */
export function tlsSecretOf(ing: Obj): { secret: string; host: string } {
  for (const t of ing.spec?.tls ?? []) {
    const host = t.hosts?.[0] ?? ingressPaths(ing).find((p) => p.host)?.host;
    if (t.secretName && host) return { secret: t.secretName, host };
  }
  throw new LabError('ERR_FAULT', `Ingress ${key(ing)} names no TLS Secret (spec.tls[].secretName with a host)`);
}

/** A copy of the Ingress with one path changed. */
export function withPath(ing: Obj, at: PathAt, change: (p: Obj) => void): Obj {
  const copy = structuredClone(ing);
  change(copy.spec.rules[at.rule].http.paths[at.index]);
  return copy;
}

/** A route-table line (the controller's /podwire/routes) for this path of this Ingress. */
export function routeLineFor(
  lines: string[],
  ingKey: string,
  at: Pick<PathAt, 'host' | 'path'>,
  pathType: string,
): string | undefined {
  const host = at.host || '*';
  return lines.find((l) => l.startsWith(`${host} ${at.path} (${pathType}) → `) && l.includes(` · Ingress ${ingKey}`));
}

/** The Secret's tls.crt, its first certificate's base64 body. */
export function secretCertificate(secret: Obj): string {
  return firstCertificate(Buffer.from(String(secret.data?.['tls.crt'] ?? ''), 'base64').toString('utf8'));
}

const key = (ing: Obj) => `${ing.metadata?.namespace ?? 'default'}/${ing.metadata?.name}`;

// What break saved, for fix. The Secret holds a private key: only root reads it.
const savedFile = (state: LabState, scenario: string, target: string) =>
  path.join(state.plan.stateDir, `broken-${scenario}-${target.replace('/', '_')}.json`);
function save(state: LabState, scenario: string, target: string, what: unknown): void {
  fs.writeFileSync(savedFile(state, scenario, target), JSON.stringify(what), { mode: 0o600 });
}
function restore<T>(state: LabState, scenario: string, target: string): T {
  const file = savedFile(state, scenario, target);
  const v = JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  fs.rmSync(file, { force: true });
  return v;
}

/** Run argv in each controller pod's network namespace (those this lab's agents run); their outputs. */
async function inControllers(
  state: LabState,
  c: ApiClient,
  argv: (pod: { args: { healthzPort: number; httpsPort: number } }) => string[],
): Promise<string[]> {
  const pods = (await controllerPods(c, await labPods(state))).filter((p) => p.netns);
  if (!pods.length)
    throw new LabError(
      'ERR_NO_CONTROLLER',
      'no ingress controller pod runs in this lab (podwire ingress-addon --apply)',
    );
  const run = execaRunner();
  return Promise.all(
    pods.map(async (p) => {
      const r = await run.run(['ip', 'netns', 'exec', p.netns!, ...argv(p)], {
        allowFailure: true,
        timeoutMs: 5000,
        input: '',
      });
      return `${r.stdout}\n${r.stderr}`;
    }),
  );
}

/** Until every controller pod's route table does (or no longer does) have the line `find` picks. */
function untilRoutes(state: LabState, c: ApiClient, what: string, find: (lines: string[]) => boolean): Promise<void> {
  return waitFor(
    `every ingress controller pod to serve ${what}`,
    15_000,
    async () => {
      const outs = await inControllers(state, c, (p) => [
        'curl',
        '-s',
        '--max-time',
        '2',
        `http://127.0.0.1:${p.args.healthzPort}/podwire/routes`,
      ]);
      return outs.every((o) => find(o.split('\n')));
    },
    200,
  );
}

/** The base64 body of the first PEM certificate in a text ('' when none), whitespace removed. */
export function firstCertificate(text: string): string {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  return m ? m[1].replace(/\s+/g, '') : '';
}

/**
 * Until every controller pod presents (or no longer presents) this certificate for the SNI: a
 * handshake only, no request. Not "the default certificate": with a Gateway listener that takes
 * every SNI on the same port, a host whose Secret is gone gets that listener's certificate instead.
 */
function untilCertificate(
  state: LabState,
  c: ApiClient,
  host: string,
  cert: string,
  presented: boolean,
): Promise<void> {
  return waitFor(
    `every ingress controller pod to ${presented ? 'present' : 'stop presenting'} the Secret’s certificate for ${host}`,
    15_000,
    async () => {
      const outs = await inControllers(state, c, (p) => [
        'openssl',
        's_client',
        '-connect',
        `127.0.0.1:${p.args.httpsPort}`,
        '-servername',
        host,
      ]);
      return outs.every((o) => firstCertificate(o) !== '' && (firstCertificate(o) === cert) === presented);
    },
    200,
  );
}

async function getIngress(c: ApiClient, target: string): Promise<KubeObject> {
  const [ns, name] = split(target);
  const ing = await c.tryGet('ingresses', ns, name);
  if (!ing) throw new LabError('ERR_NOT_FOUND', `ingress ${ns}/${name} not found`);
  return ing;
}

/** A path edit: break saves the path's old value and writes the new; fix writes the old back. */
function pathScenario(o: {
  name: string;
  summary: string;
  findWith: string;
  pick(ing: Obj): PathAt;
  broken(at: PathAt): { field: 'service' | 'pathType'; value: string };
  /** the route line break waits for (and fix waits to be gone) */
  line(at: PathAt, ns: string, value: string): (lines: string[], ingKey: string) => boolean;
}): Scenario {
  const set = (p: Obj, field: 'service' | 'pathType', value: string) => {
    if (field === 'service') p.backend.service.name = value;
    else p.pathType = value;
  };
  return {
    name: o.name,
    summary: o.summary,
    findWith: o.findWith,
    target: 'ingress',
    defaultTarget: INGRESS_DEFAULT_TARGET,
    async break(state, target) {
      await withClient(state, async (c) => {
        const ing = await getIngress(c, target);
        const at = o.pick(ing);
        const { field, value } = o.broken(at);
        const was = field === 'service' ? at.service! : at.pathType;
        save(state, o.name, target, { rule: at.rule, index: at.index, path: at.path, field, was, value });
        await c.update(withPath(ing, at, (p) => set(p, field, value)));
        const has = o.line(at, ing.metadata.namespace ?? 'default', value);
        await untilRoutes(state, c, `${at.path} of Ingress ${key(ing)} broken`, (lines) => has(lines, key(ing)));
      });
    },
    async fix(state, target) {
      const saved = restore<{
        rule: number;
        index: number;
        path: string;
        field: 'service' | 'pathType';
        was: string;
        value: string;
      }>(state, o.name, target);
      await withClient(state, async (c) => {
        const ing = await getIngress(c, target);
        const at = ingressPaths(ing).find((p) => p.rule === saved.rule && p.index === saved.index);
        if (!at || at.path !== saved.path)
          throw new LabError(
            'ERR_FAULT',
            `Ingress ${key(ing)} changed since lab break: path ${saved.path} is not where it was; set its ${saved.field} back to ${saved.was} by hand`,
          );
        await c.update(withPath(ing, at, (p) => set(p, saved.field, saved.was)));
        const has = o.line(at, ing.metadata.namespace ?? 'default', saved.value);
        await untilRoutes(state, c, `${at.path} of Ingress ${key(ing)} mended`, (lines) => !has(lines, key(ing)));
      });
    },
  };
}

export const INGRESS_SCENARIOS: Scenario[] = [
  pathScenario({
    name: 'ingress-backend-missing',
    summary:
      'misspell the Service of an Ingress path (the first with a Service backend): the Service it names does not exist',
    findWith:
      'curl -i → 503 with x-podwire-reason: Service <ns>/<name> not found; podwire describe ingress <ingress> → <error: endpoints "<name>" not found>; podwire get events → Warning ServiceNotFound on the Ingress; podwire trace <pod> http://<host>/<path> → ANSWERED-BY-INGRESS at the route step',
    pick: backendMissingPath,
    broken: (at) => ({ field: 'service', value: misspell(at.service!) }),
    line: (at, ns, value) => (lines, ingKey) =>
      (routeLineFor(lines, ingKey, at, at.pathType) ?? '').includes(`→ ${ns}/${value}:`),
  }),
  pathScenario({
    name: 'ingress-exact-not-prefix',
    summary:
      'make an Ingress path (the first Prefix one below /) pathType Exact where Prefix was meant: /api works, /api/users does not',
    findWith:
      'curl <path>/x → 404 "no Ingress rule matches host … path …" (or the / path’s backend answers); podwire trace <pod> http://<host><path>/x → what the host has: <path> (Exact); podwire get ingress <ingress> -o yaml → pathType: Exact',
    pick: exactNotPrefixPath,
    broken: () => ({ field: 'pathType', value: 'Exact' }),
    line: (at) => (lines, ingKey) => routeLineFor(lines, ingKey, at, 'Exact') !== undefined,
  }),
  {
    name: 'ingress-tls-secret-missing',
    summary:
      'delete the TLS Secret an Ingress names (its first spec.tls entry): its host gets the controller’s default certificate',
    findWith:
      'curl -v https://<host>/ → subject CN=Kubernetes Ingress Controller Fake Certificate (or, with a Gateway listener without a hostname on the same port, that listener’s certificate); with --cacert: exit 60; podwire get events → Warning SecretNotFound on the Ingress; podwire trace <pod> https://<host>/ → tls: no Secret’s certificate for SNI <host>; podwire describe ingress <ingress> → TLS: <secret> terminates <host>, and the Secret is not in podwire get secrets',
    target: 'ingress',
    defaultTarget: INGRESS_DEFAULT_TARGET,
    async break(state, target) {
      await withClient(state, async (c) => {
        const ing = await getIngress(c, target);
        const ns = ing.metadata.namespace ?? 'default';
        const { secret, host } = tlsSecretOf(ing);
        const s = await c.tryGet('secrets', ns, secret);
        if (!s) throw new LabError('ERR_FAULT', `Secret ${ns}/${secret} is already missing`);
        const { name, namespace, labels, annotations } = s.metadata;
        save(state, 'ingress-tls-secret-missing', target, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name, namespace, labels, annotations },
          type: s.type,
          data: s.data,
        });
        await c.delete('secrets', ns, secret);
        await untilCertificate(state, c, host, secretCertificate(s), false);
      });
    },
    async fix(state, target) {
      const secret = restore<Obj>(state, 'ingress-tls-secret-missing', target);
      await withClient(state, async (c) => {
        if (!(await c.tryGet('secrets', secret.metadata.namespace, secret.metadata.name))) await c.create(secret);
        const ing = await getIngress(c, target);
        await untilCertificate(state, c, tlsSecretOf(ing).host, secretCertificate(secret), true);
      });
    },
  },
];
