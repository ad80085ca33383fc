import type { Attributes, PolicyRule, UserInfo } from '../auth/index.js';
import { errors } from './status.js';
import type { Access } from './access.js';

/**
 * The create-only reviews, answered from the request's own user and never
 * stored: authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth
 * can-i VERB RESOURCE`), SelfSubjectRulesReview (`kubectl auth can-i
 * --list`) and authentication.k8s.io/v1 SelfSubjectReview (`kubectl auth
 * whoami`). Each answer is the request with its status filled in (201).
 */
type Obj = Record<string, any>;

const answer = (body: Obj, status: Obj): Obj => ({
  kind: body.kind,
  apiVersion: body.apiVersion,
  metadata: { creationTimestamp: null, ...(body.metadata ?? {}) },
  ...(body.spec !== undefined ? { spec: body.spec } : {}),
  status,
});

function accessReview(body: Obj, user: UserInfo, access: Access | null): Obj {
  const ra = body.spec?.resourceAttributes;
  const na = body.spec?.nonResourceAttributes;
  if (!!ra === !!na)
    throw errors.invalid(
      'SelfSubjectAccessReview',
      '',
      [
        {
          field: 'spec.resourceAttributes',
          message:
            'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
          reason: 'FieldValueInvalid',
        },
      ],
      'authorization.k8s.io',
    );
  const a: Attributes = ra
    ? {
        user,
        verb: ra.verb ?? '',
        resourceRequest: true,
        namespace: ra.namespace ?? '',
        apiGroup: ra.group ?? '',
        resource: ra.resource ?? '',
        subresource: ra.subresource ?? '',
        name: ra.name ?? '',
        path: '',
      }
    : {
        user,
        verb: na.verb ?? '',
        resourceRequest: false,
        namespace: '',
        apiGroup: '',
        resource: '',
        subresource: '',
        name: '',
        path: na.path ?? '',
      };
  const d = access ? access.authorize(a) : { allowed: true, reason: '' };
  return answer(body, { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) });
}

function rulesReview(body: Obj, user: UserInfo, access: Access | null): Obj {
  const ns: string = body.spec?.namespace ?? '';
  const rules: PolicyRule[] = access
    ? access.rulesFor(user, ns)
    : [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ];
  const resourceRules = rules
    .filter((r) => !r.nonResourceURLs?.length)
    .map((r) => ({
      verbs: r.verbs,
      ...(r.apiGroups?.length ? { apiGroups: r.apiGroups } : {}),
      ...(r.resources?.length ? { resources: r.resources } : {}),
      ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
    }));
  const nonResourceRules = rules
    .filter((r) => r.nonResourceURLs?.length)
    .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
  return answer(body, { resourceRules, nonResourceRules, incomplete: false });
}

function selfReview(body: Obj, user: UserInfo): Obj {
  return answer(body, {
    userInfo: {
      username: user.name,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: user.groups,
      ...(user.extra ? { extra: user.extra } : {}),
    },
  });
}

/** The answer to a POSTed review of `kind` (its body already validated). */
export function review(kind: string, body: Obj, user: UserInfo, access: Access | null): Obj {
  switch (kind) {
    case 'SelfSubjectAccessReview':
      return accessReview(body, user, access);
    case 'SelfSubjectRulesReview':
      return rulesReview(body, user, access);
    case 'SelfSubjectReview':
      return selfReview(body, user);
    default:
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
}
