/**
 * Ingresses → virtual servers, merged the way ingress-nginx merges them:
 * one server per host across every Ingress of our class (rules without a
 * host go to the catch-all server), oldest Ingress first. A path (same host,
 * same path, same pathType) that an older Ingress already routes is ignored
 * in the newer one — ingress-nginx keeps the first location — and podwire says
 * so with a PathConflict Warning on the Ingress that lost.
 *
 * A server's fallback (no path matches) is the spec.defaultBackend of the
 * Ingress that made it; the catch-all's is that of the oldest Ingress with a
 * defaultBackend and no rules (ingress-nginx's "catch all" case). Without one:
 * 404 "no Ingress rule matches …".
 */
import type { CompileOptions, Obj, RouteRef } from '../types.js';
import { needsRewrite, nginxSettings, type NginxSettings } from './annotations.js';
import { resolveServiceBackend, type BackendResult } from './backends.js';
import { certCoversHost, tlsPairFromSecret, type CertificateStore } from './certificates.js';
import { ingressWildcardFor, normalizeHost } from './hosts.js';
import { ingressClassChoice } from './ingress-class.js';
import { asArray, ingressAgeOrder, keyOf, nsOf, type EventSink, type ObjectIndex } from './objects.js';
import { prefixBase } from './paths.js';

export type IngressPathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface IngressLocation {
  ingress: Obj;
  ingressKey: string;
  /** '' = the rule had no host (every host without a server of its own) */
  host: string;
  path: string;
  pathType: IngressPathType;
  backend: BackendResult;
  /** the port as the Ingress wrote it: "80" or a port name */
  portText: string;
  settings: NginxSettings;
  ref: RouteRef;
  /** nginx's `rewrite "(?i)<path>" <target>` regex, when this location rewrites */
  rewrite?: RegExp;
  /** insertion order: ingress age, then rule and path order */
  order: number;
}

export interface IngressServer {
  host: string;
  locations: IngressLocation[];
  fallback?: IngressLocation;
  /** the annotations of the Ingress that made the server: what an unmatched request's redirect follows */
  rootSettings: NginxSettings;
  /** "namespace/name" of that Ingress ('' for the catch-all without one) */
  rootIngress: string;
  tls: boolean;
  /** ingress-nginx turns every path of the host into a case-insensitive regex when any has use-regex or rewrite-target */
  regex: boolean;
}

export interface CompiledIngresses {
  /** our Ingresses, oldest first */
  ingresses: Obj[];
  settings: Map<string, NginxSettings>;
  servers: Map<string, IngressServer>;
  catchAll: IngressServer;
  /** paths ignored because an older Ingress (or an earlier path) routes the same host, path and type */
  conflicts: { ingress: string; rule: string; owner: string }[];
}

export const hostText = (h: string): string => h || '*';

export function compileIngresses(
  all: Obj[],
  classes: Obj[],
  index: ObjectIndex,
  opts: CompileOptions,
  events: EventSink,
  certs: CertificateStore,
): CompiledIngresses {
  const ingresses = asArray(all)
    .filter((i) => ingressClassChoice(i, classes, opts.ingressController).ours)
    .sort(ingressAgeOrder);
  const settings = new Map<string, NginxSettings>();
  for (const ing of ingresses) {
    const { settings: s, notes } = nginxSettings(ing.metadata?.annotations);
    settings.set(keyOf(ing), s);
    for (const n of notes) events.add('Ingress', ing, n.type, n.reason, n.message);
  }
  const servers = new Map<string, IngressServer>();
  const catchAll: IngressServer = {
    host: '',
    locations: [],
    rootSettings: settingsDefault(),
    rootIngress: '',
    tls: false,
    regex: false,
  };
  const seen = new Map<string, string>(); // host|type|path → owning Ingress
  const conflicts: CompiledIngresses['conflicts'] = [];
  let order = 0;

  const locationOf = (
    ing: Obj,
    host: string,
    path: string,
    pathType: IngressPathType,
    backend: Obj,
    rule: string,
  ): IngressLocation => {
    const s = settings.get(keyOf(ing))!;
    const { result, portText } = ingressBackend(index, nsOf(ing), backend);
    const ref: RouteRef = { kind: 'Ingress', name: keyOf(ing), rule };
    if (!result.ok)
      events.add('Ingress', ing, 'Warning', result.problem, `${result.reason}: ${rule} answers ${result.status}`);
    return {
      ingress: ing,
      ingressKey: keyOf(ing),
      host,
      path,
      pathType,
      backend: result,
      portText,
      settings: s,
      ref,
      order: order++,
    };
  };

  // Servers: made by the oldest Ingress naming the host, with its defaultBackend as fallback.
  for (const ing of ingresses) {
    const def = ing.spec?.defaultBackend;
    const rules = asArray(ing.spec?.rules);
    if (def && rules.length === 0 && !catchAll.fallback) {
      catchAll.fallback = locationOf(ing, '', '/', 'Prefix', def, 'default backend');
      catchAll.rootSettings = settings.get(keyOf(ing))!;
      catchAll.rootIngress = keyOf(ing);
    }
    for (const rule of rules) {
      const host = normalizeHost(rule.host);
      if (host === '' || servers.has(host)) continue;
      const server: IngressServer = {
        host,
        locations: [],
        rootSettings: settings.get(keyOf(ing))!,
        rootIngress: keyOf(ing),
        tls: false,
        regex: false,
      };
      if (def) server.fallback = locationOf(ing, host, '/', 'Prefix', def, `${host} default backend`);
      servers.set(host, server);
    }
  }

  // Paths, merged per host; the first (oldest) Ingress keeps a path.
  for (const ing of ingresses) {
    asArray(ing.spec?.rules).forEach((rule) => {
      const host = normalizeHost(rule.host);
      const server = host === '' ? catchAll : servers.get(host)!;
      for (const p of asArray(rule.http?.paths)) {
        const path = typeof p.path === 'string' && p.path !== '' ? p.path : '/';
        const pathType: IngressPathType =
          p.pathType === 'Exact' || p.pathType === 'Prefix' ? p.pathType : 'ImplementationSpecific';
        const text = `${hostText(host)}${path} (${pathType})`;
        const key = `${host}|${pathType}|${pathType === 'Prefix' ? prefixBase(path) : path}`;
        const owner = seen.get(key);
        if (owner !== undefined) {
          const by =
            owner === keyOf(ing) ? 'an earlier path of this Ingress' : `Ingress ${owner} (the oldest Ingress wins)`;
          events.add(
            'Ingress',
            ing,
            'Warning',
            'PathConflict',
            `${text} is already routed by ${by}; this one is ignored`,
          );
          conflicts.push({ ingress: keyOf(ing), rule: text, owner });
          continue;
        }
        seen.set(key, keyOf(ing));
        server.locations.push(locationOf(ing, host, path, pathType, p.backend ?? {}, text));
      }
    });
  }

  const tlsHosts = registerCertificates(ingresses, index, opts, events, certs);
  for (const server of [...servers.values(), catchAll]) {
    const w = ingressWildcardFor(server.host);
    server.tls = server.host !== '' && (tlsHosts.has(server.host) || (w !== undefined && tlsHosts.has(w)));
    server.regex = server.locations.some((l) => l.settings.useRegex || needsRewrite(l.settings, l.path));
    for (const l of server.locations) {
      if (!needsRewrite(l.settings, l.path)) continue;
      try {
        l.rewrite = new RegExp(l.path, 'i');
      } catch (e) {
        events.add(
          'Ingress',
          l.ingress,
          'Warning',
          'InvalidPath',
          `${l.ref.rule}: rewrite-target needs the path as a regular expression: ${(e as Error).message}`,
        );
      }
    }
  }
  return { ingresses, settings, servers, catchAll, conflicts };
}

function settingsDefault(): NginxSettings {
  return nginxSettings(undefined).settings;
}

function ingressBackend(index: ObjectIndex, ns: string, backend: Obj): { result: BackendResult; portText: string } {
  const svc = backend.service;
  if (!svc || typeof svc.name !== 'string') {
    const res = backend.resource;
    const what = res ? `${res.kind ?? 'resource'} ${res.name ?? ''}`.trim() : 'without a Service';
    const reason = `backend ${what} is not a Service: podwire proxies only to Services`;
    const target = { service: `${ns}/?`, port: 0, address: '', weight: 1, failure: { status: 503, reason } };
    return { result: { ok: false, problem: 'ServiceNotFound', status: 503, reason, target }, portText: '?' };
  }
  const port = svc.port ?? {};
  const ref = typeof port.number === 'number' ? { number: port.number } : { name: String(port.name ?? '') };
  return {
    result: resolveServiceBackend(index, ns, svc.name, ref, 1),
    portText: ref.number !== undefined ? String(ref.number) : ref.name!,
  };
}

/**
 * spec.tls → certificates for the HTTPS port, and the hosts that have TLS
 * (for ssl-redirect). The oldest Ingress listing a host gives its certificate.
 * A Secret missing or malformed, or one that does not name the host, leaves
 * the host on the default certificate, as ingress-nginx does, with a Warning;
 * the host still counts as TLS (ingress-nginx then still redirects).
 * A tls entry without hosts serves the Ingress's rule hosts its certificate
 * names (ingress-nginx matches the certificate's SANs).
 */
function registerCertificates(
  ingresses: Obj[],
  index: ObjectIndex,
  opts: CompileOptions,
  events: EventSink,
  certs: CertificateStore,
): Set<string> {
  const tlsHosts = new Set<string>();
  const done = new Set<string>();
  for (const ing of ingresses) {
    const ns = nsOf(ing);
    const entries = asArray(ing.spec?.tls);
    const listed = new Set(entries.flatMap((t) => asArray<string>(t.hosts).map(normalizeHost)));
    const secretOf = (name: string) => {
      const secret = index.secret(ns, name);
      return secret ? tlsPairFromSecret(secret, `${ns}/${name}`) : undefined;
    };
    for (const t of entries) {
      const name = typeof t.secretName === 'string' ? t.secretName : '';
      for (const host of asArray<string>(t.hosts).map(normalizeHost).filter(Boolean)) {
        tlsHosts.add(host);
        if (done.has(host)) continue;
        done.add(host);
        if (!name) continue; // no secretName: the default certificate
        const pair = secretOf(name);
        if (!pair) {
          events.add(
            'Ingress',
            ing,
            'Warning',
            'SecretNotFound',
            `TLS Secret ${ns}/${name} not found: ${host} gets the default certificate`,
          );
        } else if (!pair.ok) {
          events.add(
            'Ingress',
            ing,
            'Warning',
            'InvalidCertificate',
            `${pair.reason}: ${host} gets the default certificate`,
          );
        } else if (!certCoversHost(pair.x509, host)) {
          events.add(
            'Ingress',
            ing,
            'Warning',
            'CertificateHostMismatch',
            `the certificate in Secret ${ns}/${name} does not name ${host}: ${host} gets the default certificate`,
          );
        } else {
          certs.addIngress(opts.httpsPort, host, pair.pair);
        }
      }
    }
    // tls entries without hosts: the rule hosts their certificate names
    const hostless = entries.filter(
      (t) => asArray(t.hosts).length === 0 && typeof t.secretName === 'string' && t.secretName,
    );
    if (hostless.length === 0) continue;
    for (const rule of asArray(ing.spec?.rules)) {
      const host = normalizeHost(rule.host);
      if (!host || listed.has(host) || done.has(host)) continue;
      for (const t of hostless) {
        const pair = secretOf(t.secretName);
        if (pair?.ok && certCoversHost(pair.x509, host)) {
          tlsHosts.add(host);
          done.add(host);
          certs.addIngress(opts.httpsPort, host, pair.pair);
          break;
        }
      }
    }
  }
  return tlsHosts;
}
