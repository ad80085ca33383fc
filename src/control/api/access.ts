import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { KeyObject } from 'node:crypto';
import {
  ADMIN,
  MASTERS,
  UNAUTHORIZED_STATUS,
  authenticate,
  authenticateToken,
  authorize,
  clusterRoleRules,
  forbiddenStatus,
  impersonate,
  nodeAuthorize,
  requestInfo,
  rulesFor,
  uncovered,
  type Attributes,
  type Decision,
  type PolicyRule,
  type RbacCache,
  type UserInfo,
} from '../auth/index.js';
import { ApiError } from './status.js';
import type { KubeObject } from './object.js';

/**
 * The API server's door: who a request is from (authentication), who it
 * acts as (impersonation), and whether it may (authorization: RBAC over the
 * in-memory cache, or AlwaysAllow), answered with kube's 401 and 403. Made
 * once per server. Without auth options (an in-process `new ApiServer(store)`)
 * every request is system:admin and everything is allowed, as before #15.
 */
export interface AuthOptions {
  /** kube-apiserver's --authorization-mode: RBAC, or AlwaysAllow for teaching */
  authorization: 'RBAC' | 'AlwaysAllow';
  /**
   * the Node authorizer before RBAC (--authorization-mode Node,RBAC): a
   * node reads only the Secrets, ConfigMaps and ServiceAccounts its pods use
   */
  nodeAuthorizer?: boolean;
  /** ServiceAccount tokens: verified with `publicKeys`, issued (TokenRequest) with `signingKey` */
  serviceAccounts?: {
    publicKeys: KeyObject[];
    signingKey?: KeyObject;
    issuer: string;
    /** the API audiences a token must name (default: the issuer) */
    audiences: string[];
  };
}

/**
 * Where a request came in: the Unix socket, or plain HTTP on loopback
 * (both the control-plane machine itself: system:admin), or HTTPS (credentials).
 */
export type Channel = 'local' | 'tls';

/** What routing knows about a request's sender. */
export interface RequestAuth {
  user: UserInfo;
  access: Access | null;
}

export type Admission = { user: UserInfo } | { code: number; status: Record<string, unknown> };

type Creds = { verified: boolean; commonName: string; organizations: string[] } | null;

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export class Access {
  /** a connection's certificate is read once, not per request */
  private readonly certs = new WeakMap<object, Creds>();

  constructor(
    readonly opts: AuthOptions | null,
    private readonly cache: RbacCache | null,
    private readonly clock: () => number = Date.now,
  ) {}

  private peer(req: http.IncomingMessage): Creds {
    const socket = req.socket as TLSSocket;
    if (this.certs.has(socket)) return this.certs.get(socket)!;
    let creds: Creds = null;
    const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null;
    if (cert && Object.keys(cert).length) {
      creds = {
        verified: socket.authorized === true,
        commonName: list(cert.subject?.CN)[0] ?? '',
        organizations: list(cert.subject?.O),
      };
    }
    this.certs.set(socket, creds);
    return creds;
  }

  /** tokens whose signature checked out (their claims are still checked per request) */
  private readonly verified = new Map<string, Record<string, any>>();

  private tokenUser = (token: string): UserInfo => {
    const sa = this.opts?.serviceAccounts;
    if (!sa || !this.cache) throw new ApiError('Unauthorized', 'ServiceAccount tokens are not accepted here');
    return authenticateToken(
      token,
      {
        keys: sa.publicKeys,
        issuers: [sa.issuer],
        audiences: sa.audiences,
        nowMs: this.clock(),
        lookups: this.cache,
      },
      this.verified,
    );
  };

  authorize(a: Attributes): Decision {
    // system:masters is allowed everything whatever RBAC says (kube-apiserver's privileged-group authorizer)
    if (!this.opts || this.opts.authorization === 'AlwaysAllow' || a.user.groups.includes(MASTERS))
      return { allowed: true, reason: '' };
    if (!this.cache) return { allowed: false, reason: 'no authorizer' };
    if (!this.opts.nodeAuthorizer) return authorize(this.cache.index, a);
    // the union authorizer: Node, then RBAC; a refusal carries every reason, one a line
    const node = nodeAuthorize(this.cache.nodeGraph, a);
    if (node?.allowed) return { allowed: true, reason: 'Node authorizer' };
    const d = authorize(this.cache.index, a);
    if (d.allowed || !node?.reason) return d;
    return { allowed: false, reason: [node.reason, d.reason].filter(Boolean).join('\n') };
  }

  /** The rules that apply to `user` in `namespace` (SelfSubjectRulesReview). */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    if (!this.opts || this.opts.authorization === 'AlwaysAllow' || user.groups.includes(MASTERS) || !this.cache)
      return [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ];
    return rulesFor(this.cache.index, user, namespace);
  }

  /**
   * Authenticate and authorize one request (`verb` overrides RequestInfo's,
   * as for the streaming subresources, which need `create`).
   */
  admit(req: http.IncomingMessage, channel: Channel, verb?: string): Admission {
    // the local channel is system:masters, allowed everything: nothing to read unless it impersonates
    if (
      channel === 'local' &&
      req.headers['impersonate-user'] === undefined &&
      req.headers['impersonate-group'] === undefined
    )
      return { user: ADMIN };
    let user: UserInfo = ADMIN;
    const url = req.url ?? '/';
    const info = requestInfo(req.method ?? 'GET', url);
    if (channel === 'tls') {
      const auth = authenticate(
        { cert: this.peer(req), authorization: req.headers.authorization, path: info.path },
        this.tokenUser,
      );
      if ('refused' in auth) return { code: 401, status: { ...UNAUTHORIZED_STATUS } };
      user = auth.user;
    }
    const imp = impersonate(user, req.headers, (a) => this.authorize(a));
    if (imp) {
      if ('badRequest' in imp) return { code: 400, status: new ApiError('BadRequest', imp.badRequest).toStatus() };
      if ('forbidden' in imp) return { code: 403, status: forbiddenStatus(imp.forbidden, imp.reason) };
      user = imp.user;
    }
    const a: Attributes = { user, ...info, verb: verb ?? info.verb };
    const d = this.authorize(a);
    if (!d.allowed) return { code: 403, status: forbiddenStatus(a, d.reason) };
    return { user };
  }

  /**
   * RBAC's escalation check, simplified: a Role or ClusterRole may be
   * written by a user who holds every permission in it (in that namespace,
   * or cluster-wide for a ClusterRole) or has `escalate` on it; a binding by
   * one who holds every permission of the role it refers to or has `bind`
   * on that role. Simplified from upstream: a binding to a role that does
   * not exist yet is allowed (it grants nothing until the role appears,
   * and the role's writer is checked then). A ClusterRole with an
   * aggregationRule needs full authority (`*` on everything), as upstream.
   */
  checkEscalation(user: UserInfo, kind: string, namespace: string, o: KubeObject): void {
    if (!this.opts || this.opts.authorization !== 'RBAC' || user.groups.includes(MASTERS) || !this.cache) return;
    const g = 'rbac.authorization.k8s.io';
    const ns = kind === 'Role' || kind === 'RoleBinding' ? namespace : '';
    const can = (verb: string, resource: string, name: string, inNs: string) =>
      this.authorize({
        user,
        verb,
        resourceRequest: true,
        namespace: inNs,
        apiGroup: g,
        resource,
        subresource: '',
        name,
        path: '',
      }).allowed;
    let wanted: PolicyRule[];
    if (kind === 'Role' || kind === 'ClusterRole') {
      if (can('escalate', kind === 'Role' ? 'roles' : 'clusterroles', o.metadata.name, ns)) return;
      wanted = (o.rules as PolicyRule[] | undefined) ?? [];
      // an aggregationRule can gather anything: it takes full authority, as upstream
      const agg = o.aggregationRule as { clusterRoleSelectors?: unknown[] } | null | undefined;
      if (kind === 'ClusterRole' && agg?.clusterRoleSelectors?.length)
        wanted = [...wanted, { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];
    } else if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
      const ref = o.roleRef as { kind: string; name: string };
      if (can('bind', ref.kind === 'Role' ? 'roles' : 'clusterroles', ref.name, ref.kind === 'Role' ? ns : ns)) return;
      const role =
        ref.kind === 'Role' ? this.cache.index.roles(ns)?.get(ref.name) : this.cache.index.clusterRoles.get(ref.name);
      // what the binding would grant: an aggregated ClusterRole's gathered rules too
      wanted = !role ? [] : ref.kind === 'Role' ? (role.rules ?? []) : clusterRoleRules(this.cache.index, role);
    } else return;
    const missing = uncovered(this.rulesFor(user, ns), wanted);
    if (!missing.length) return;
    const plural = {
      Role: 'roles',
      ClusterRole: 'clusterroles',
      RoleBinding: 'rolebindings',
      ClusterRoleBinding: 'clusterrolebindings',
    }[kind]!;
    throw new ApiError(
      'Forbidden',
      `${plural}.${g} ${JSON.stringify(o.metadata.name)} is forbidden: user ${JSON.stringify(user.name)} (groups=[${user.groups
        .map((x) => JSON.stringify(x))
        .join(
          ' ',
        )}]) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRule).join('\n')}`,
      { name: o.metadata.name, group: g, kind: plural },
    );
  }
}

/** rbac's CompactString: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}` */
function compactRule(r: PolicyRule): string {
  const q = (l: string[]) => `[${l.map((x) => JSON.stringify(x)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}
