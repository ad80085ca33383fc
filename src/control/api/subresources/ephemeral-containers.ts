import { errors, type Cause } from '../status.js';
import { mergePatch } from '../validate.js';
import { strategicMergePatch } from '../strategic-merge.js';
import { applyJsonPatch } from '../json-patch.js';
import { canonicalJson } from '../../canonical-json.js';
import type { KubeObject } from '../object.js';
import type { Subresource } from './subresource.js';

/**
 * pods/ephemeralcontainers (GET, PUT, PATCH), as `kubectl debug POD
 * --image=… [--target=C]` uses it: the body is the Pod, and the only change
 * allowed is to add containers to spec.ephemeralContainers — never to
 * change or remove one (Kubernetes: ValidatePodEphemeralContainersUpdate).
 * The agent of the pod's node starts them; with targetContainerName one
 * shares that container's process namespace.
 */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/**
 * The fields an ephemeral container may set (Kubernetes' allowedEphemeralContainerFields,
 * and its own targetContainerName): anything else — ports, probes, lifecycle, resources,
 * resizePolicy, restartPolicy — is refused unless empty, as a list of what is allowed so
 * that a new field is refused until considered.
 */
const ALLOWED = new Set([
  'name',
  'image',
  'command',
  'args',
  'workingDir',
  'envFrom',
  'env',
  'volumeMounts',
  'volumeDevices',
  'terminationMessagePath',
  'terminationMessagePolicy',
  'imagePullPolicy',
  'securityContext',
  'stdin',
  'stdinOnce',
  'tty',
  'targetContainerName',
]);
/** Go's zero value: what an unset field reads as (resources: {} is what kubectl sends) */
const isZero = (v: unknown) =>
  v === undefined ||
  v === null ||
  v === '' ||
  v === false ||
  v === 0 ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

export function validateEphemeralUpdate(cur: KubeObject, next: KubeObject): Cause[] {
  const causes: Cause[] = [];
  const strip = (o: KubeObject) => {
    const { ephemeralContainers: _e, ...spec } = (o.spec ?? {}) as Record<string, unknown>;
    return canonicalJson(spec);
  };
  if (strip(cur) !== strip(next))
    causes.push({
      field: 'spec',
      reason: 'FieldValueForbidden',
      message: 'pod updates through ephemeralcontainers may not change fields other than spec.ephemeralContainers',
    });
  const before = (cur.spec?.ephemeralContainers ?? []) as Record<string, unknown>[];
  const after = (next.spec?.ephemeralContainers ?? []) as Record<string, unknown>[];
  for (const old of before) {
    const now = after.find((c) => c.name === old.name);
    if (!now || canonicalJson(now) !== canonicalJson(old))
      causes.push({
        field: 'spec.ephemeralContainers',
        reason: 'FieldValueForbidden',
        message: `existing ephemeral containers "${String(old.name)}" may not be changed`,
      });
  }
  const taken = new Set(
    [
      ...((cur.spec?.containers ?? []) as { name: string }[]),
      ...((cur.spec?.initContainers ?? []) as { name: string }[]),
    ].map((c) => c.name),
  );
  const regular = new Set(((cur.spec?.containers ?? []) as { name: string }[]).map((c) => c.name));
  after.forEach((c, i) => {
    const f = `spec.ephemeralContainers[${i}]`;
    if (typeof c.name !== 'string' || !NAME.test(c.name))
      causes.push({
        field: `${f}.name`,
        reason: 'FieldValueInvalid',
        message: "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
      });
    else if (taken.has(c.name))
      causes.push({ field: `${f}.name`, reason: 'FieldValueDuplicate', message: `Duplicate value: "${c.name}"` });
    else taken.add(c.name);
    if (typeof c.image !== 'string' || !c.image)
      causes.push({ field: `${f}.image`, reason: 'FieldValueRequired', message: 'Required value' });
    for (const k of Object.keys(c))
      if (!ALLOWED.has(k) && !isZero(c[k]))
        causes.push({
          field: `${f}.${k}`,
          reason: 'FieldValueForbidden',
          message: 'cannot be set for an Ephemeral Container',
        });
    // subPath mounts are bind mounts kept until the pod ends: refused outright (Kubernetes' reason)
    const volumes = new Set(((cur.spec?.volumes ?? []) as { name: string }[]).map((v) => v.name));
    ((c.volumeMounts ?? []) as Record<string, unknown>[]).forEach((m, j) => {
      for (const k of ['subPath', 'subPathExpr'])
        if (m[k])
          causes.push({
            field: `${f}.volumeMounts[${j}].${k}`,
            reason: 'FieldValueForbidden',
            message: 'cannot be set for an Ephemeral Container',
          });
      if (!volumes.has(String(m.name)))
        causes.push({
          field: `${f}.volumeMounts[${j}].name`,
          reason: 'FieldValueNotFound' as Cause['reason'],
          message: `Not found: "${String(m.name)}"`,
        });
    });
    if (c.targetContainerName !== undefined && !regular.has(String(c.targetContainerName)))
      causes.push({
        field: `${f}.targetContainerName`,
        reason: 'FieldValueNotSupported' as Cause['reason'],
        message: `Not found: "${String(c.targetContainerName)}"`,
      });
  });
  return causes;
}

export const ephemeralContainers: Subresource = {
  name: 'ephemeralcontainers',
  serves: (r, method) => r.kind === 'Pod' && ['GET', 'PUT', 'PATCH'].includes(method),
  discovery: () => ({
    name: 'pods/ephemeralcontainers',
    singularName: '',
    namespaced: true,
    kind: 'Pod',
    verbs: ['get', 'patch', 'update'],
  }),
  async handle({ registry, target: t, method, req, body, ctx, send }) {
    const cur = await registry.get(t);
    if (method === 'GET') return send(200, cur);
    let next: KubeObject;
    if (method === 'PUT') next = body as KubeObject;
    else {
      const ct = (req.headers['content-type'] ?? '').split(';')[0].trim();
      if (ct === 'application/strategic-merge-patch+json') next = strategicMergePatch('Pod', cur, body) as KubeObject;
      else if (ct === 'application/json-patch+json') next = applyJsonPatch(structuredClone(cur), body);
      else next = mergePatch(cur, body) as KubeObject;
    }
    if (!next || typeof next !== 'object' || !next.spec) throw errors.badRequest('the body must be a Pod');
    const causes = validateEphemeralUpdate(cur, next);
    if (causes.length) throw errors.invalid('Pod', t.name, causes);
    const o: KubeObject = { ...cur, spec: { ...cur.spec, ephemeralContainers: next.spec.ephemeralContainers ?? [] } };
    const rv = (next.metadata?.resourceVersion as string | undefined) ?? cur.metadata.resourceVersion;
    return send(200, await registry.replace(t, o, rv, ctx.dryRun, 'main'));
  },
};
