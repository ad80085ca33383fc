import { issueToken, DEFAULT_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS } from '../../auth/index.js';
import { tokenRequest } from '../schemas/rbac.js';
import { RESOURCE_TYPES } from '../resources.js';
import { ApiError, errors } from '../status.js';
import { isoTime } from '../../time.js';
import type { Subresource } from './subresource.js';

/**
 * serviceaccounts/{name}/token (POST a TokenRequest), as kube-apiserver's
 * TokenREST: a signed token for the ServiceAccount, for the audiences asked
 * (default: the API server's), living expirationSeconds (default 3600, at
 * least 600), optionally bound to a Pod — which must exist, with the uid
 * given, and run as this ServiceAccount — so that deleting the pod revokes
 * it. Answered 201 with status.token and status.expirationTimestamp.
 */
const MAX_EXPIRATION_SECONDS = 2 ** 32;

export const token: Subresource = {
  name: 'token',
  serves: (r, method) => r.kind === 'ServiceAccount' && method === 'POST',
  discovery: (r) =>
    r.kind === 'ServiceAccount'
      ? {
          name: 'serviceaccounts/token',
          singularName: '',
          namespaced: true,
          group: 'authentication.k8s.io',
          version: 'v1',
          kind: 'TokenRequest',
          verbs: ['create'],
        }
      : null,
  async handle({ registry, target: t, body, send, auth }) {
    const sa = auth.access?.opts?.serviceAccounts;
    if (!sa?.signingKey) throw new ApiError('NotFound', 'the server could not find the requested resource');
    const parsed = tokenRequest.safeParse(body);
    if (!parsed.success || parsed.data.kind !== 'TokenRequest' || parsed.data.apiVersion !== 'authentication.k8s.io/v1')
      throw errors.badRequest(
        parsed.success
          ? `the object is a ${parsed.data.apiVersion}/${parsed.data.kind}, but this endpoint takes an authentication.k8s.io/v1 TokenRequest`
          : `invalid TokenRequest: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join(', ')}`,
      );
    const spec = parsed.data.spec;
    const seconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
    if (seconds < MIN_EXPIRATION_SECONDS || seconds > MAX_EXPIRATION_SECONDS)
      throw errors.invalid(
        'TokenRequest',
        t.name,
        [
          {
            field: 'spec.expirationSeconds',
            message: `Invalid value: ${seconds}: ${seconds < MIN_EXPIRATION_SECONDS ? 'may not specify a duration less than 10 minutes' : 'may not specify a duration larger than 2^32 seconds'}`,
            reason: 'FieldValueInvalid',
          },
        ],
        'authentication.k8s.io',
      );
    const account = await registry.get(t); // 404 for a ServiceAccount that does not exist
    let bound: { kind: 'Pod'; name: string; uid: string } | undefined;
    const ref = spec.boundObjectRef;
    if (ref) {
      if (ref.kind !== 'Pod')
        throw errors.badRequest(`cannot bind token for object of kind ${JSON.stringify(ref.kind ?? '')} (only Pod)`);
      const podType = RESOURCE_TYPES.find((r) => r.kind === 'Pod')!;
      const pod = await registry.get({ r: podType, namespace: t.namespace, name: ref.name ?? '' });
      if (ref.uid && ref.uid !== pod.metadata.uid)
        throw new ApiError(
          'Conflict',
          `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
        );
      if ((pod.spec?.serviceAccountName ?? 'default') !== t.name)
        throw errors.badRequest(
          `cannot bind token for serviceaccount ${JSON.stringify(t.name)} to pod running with different serviceaccount name.`,
        );
      bound = { kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid! };
    }
    const audiences = spec.audiences?.length ? spec.audiences : sa.audiences;
    const { token: jwt, expiresAtMs } = issueToken(
      {
        issuer: sa.issuer,
        audiences,
        namespace: t.namespace!,
        serviceAccount: { name: t.name, uid: account.metadata.uid! },
        bound,
        nowMs: Date.now(),
        expirationSeconds: seconds,
      },
      sa.signingKey,
    );
    send(201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: t.name, namespace: t.namespace, creationTimestamp: null },
      spec: {
        audiences,
        expirationSeconds: seconds,
        boundObjectRef: ref
          ? { kind: 'Pod', apiVersion: 'v1', name: ref.name, ...(bound ? { uid: bound.uid } : {}) }
          : null,
      },
      status: { token: jwt, expirationTimestamp: isoTime(expiresAtMs) },
    });
  },
};
