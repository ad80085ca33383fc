import { goTimeString, formatEndpoints, formatLabels, formatLabelSelector } from '../../control/printers/index.js';
import {
  annotationsMultiline,
  describeEvents,
  labelsMultiline,
  PrefixWriter,
  type Related,
} from './describe-writer.js';

/**
 * kubectl describe for Services, Endpoints, EndpointSlices, Ingresses,
 * IngressClasses and NetworkPolicies
 * (kubectl 1.30: a Service's and an Ingress backend's endpoints come from
 * the Endpoints object of the same name).
 */
type Obj = Record<string, any>;

export function describeService(svc: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  const spec = svc.spec ?? {};
  w.write(0, `Name:\t${svc.metadata.name}\n`);
  w.write(0, `Namespace:\t${svc.metadata.namespace ?? ''}\n`);
  labelsMultiline(w, 'Labels', svc.metadata.labels);
  annotationsMultiline(w, 'Annotations', svc.metadata.annotations);
  w.write(0, `Selector:\t${formatLabels(spec.selector)}\n`);
  w.write(0, `Type:\t${spec.type ?? ''}\n`);
  if (spec.ipFamilyPolicy) w.write(0, `IP Family Policy:\t${spec.ipFamilyPolicy}\n`);
  w.write(0, `IP Families:\t${(spec.ipFamilies ?? []).join(',') || '<none>'}\n`);
  w.write(0, `IP:\t${spec.clusterIP ?? ''}\n`);
  w.write(0, `IPs:\t${(spec.clusterIPs ?? []).join(',') || '<none>'}\n`);
  if ((spec.externalIPs ?? []).length) w.write(0, `External IPs:\t${spec.externalIPs.join(',')}\n`);
  if (spec.loadBalancerIP) w.write(0, `Desired LoadBalancer IP:\t${spec.loadBalancerIP}\n`);
  if (spec.externalName) w.write(0, `External Name:\t${spec.externalName}\n`);
  const lb: Obj[] = svc.status?.loadBalancer?.ingress ?? [];
  if (lb.length)
    w.write(
      0,
      `LoadBalancer Ingress:\t${lb.map((i) => (i.ip ? `${i.ip}${i.ipMode ? ` (${i.ipMode})` : ''}` : i.hostname)).join(', ')}\n`,
    );
  for (const p of spec.ports ?? []) {
    const name = p.name || '<unset>';
    const proto = p.protocol ?? '';
    w.write(0, `Port:\t${name}\t${p.port}/${proto}\n`);
    w.write(0, `TargetPort:\t${p.targetPort ?? 0}/${proto}\n`);
    if (p.appProtocol) w.write(0, `AppProtocol:\t${p.appProtocol}\n`);
    if (p.nodePort) w.write(0, `NodePort:\t${name}\t${p.nodePort}/${proto}\n`);
    w.write(0, `Endpoints:\t${formatEndpoints(rel.endpoints?.[0] ?? {}, new Set([p.name ?? '']))}\n`);
  }
  w.write(0, `Session Affinity:\t${spec.sessionAffinity ?? ''}\n`);
  if (spec.externalTrafficPolicy) w.write(0, `External Traffic Policy:\t${spec.externalTrafficPolicy}\n`);
  if (spec.healthCheckNodePort) w.write(0, `HealthCheck NodePort:\t${spec.healthCheckNodePort}\n`);
  if ((spec.loadBalancerSourceRanges ?? []).length)
    w.write(0, `LoadBalancer Source Ranges:\t${spec.loadBalancerSourceRanges.join(',')}\n`);
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

export function describeEndpoints(ep: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  w.write(0, `Name:\t${ep.metadata.name}\n`);
  w.write(0, `Namespace:\t${ep.metadata.namespace ?? ''}\n`);
  labelsMultiline(w, 'Labels', ep.metadata.labels);
  annotationsMultiline(w, 'Annotations', ep.metadata.annotations);
  w.write(0, 'Subsets:\n');
  for (const ss of ep.subsets ?? []) {
    w.write(1, `Addresses:\t${(ss.addresses ?? []).map((a: Obj) => a.ip).join(',') || '<none>'}\n`);
    w.write(1, `NotReadyAddresses:\t${(ss.notReadyAddresses ?? []).map((a: Obj) => a.ip).join(',') || '<none>'}\n`);
    if ((ss.ports ?? []).length) {
      w.write(1, 'Ports:\n');
      w.write(2, 'Name\tPort\tProtocol\n');
      w.write(2, '----\t----\t--------\n');
      for (const p of ss.ports) w.write(2, `${p.name || '<unset>'}\t${p.port}\t${p.protocol ?? ''}\n`);
    }
    w.write(0, '\n');
  }
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

function lbAddresses(ingress: Obj[] | undefined): string {
  const set = new Set<string>();
  for (const i of ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return [...set].sort().join(',');
}

function ingressBackend(b: Obj, ns: string, rel: Related): string {
  if (b.service) {
    const port = b.service.port?.number ? String(b.service.port.number) : (b.service.port?.name ?? '');
    const sb = `${b.service.name}:${port}`;
    // kubectl asks for the Endpoints first: a missing Service (whose Endpoints are gone too) reads "endpoints … not found"
    const ep = (rel.endpoints ?? []).find((e) => e.metadata.name === b.service.name);
    if (!ep) return `${sb} (<error: endpoints "${b.service.name}" not found>)`;
    const svc = (rel.services ?? []).find((s) => s.metadata.name === b.service.name);
    if (!svc) return `${sb} (<error: services "${b.service.name}" not found>)`;
    let spName = '';
    for (const sp of svc.spec?.ports ?? []) {
      if (b.service.port?.number && b.service.port.number === sp.port) spName = sp.name ?? '';
      else if (b.service.port?.name && b.service.port.name === sp.name) spName = sp.name;
    }
    return `${sb} (${formatEndpoints(ep, new Set([spName]))})`;
  }
  if (b.resource)
    return `APIGroup: ${b.resource.apiGroup ?? '<none>'}, Kind: ${b.resource.kind}, Name: ${b.resource.name}`;
  void ns;
  return '';
}

export function describeIngress(ing: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  const spec = ing.spec ?? {};
  const ns = ing.metadata.namespace ?? '';
  w.write(0, `Name:\t${ing.metadata.name}\n`);
  labelsMultiline(w, 'Labels', ing.metadata.labels);
  w.write(0, `Namespace:\t${ns}\n`);
  w.write(0, `Address:\t${lbAddresses(ing.status?.loadBalancer?.ingress)}\n`);
  w.write(0, `Ingress Class:\t${spec.ingressClassName ?? '<none>'}\n`);
  const def = spec.defaultBackend ? ingressBackend(spec.defaultBackend, ns, rel) : '<default>';
  w.write(0, `Default backend:\t${def}\n`);
  if ((spec.tls ?? []).length) {
    w.write(0, 'TLS:\n');
    for (const t of spec.tls)
      w.write(
        1,
        t.secretName
          ? `${t.secretName} terminates ${(t.hosts ?? []).join(',')}\n`
          : `SNI routes ${(t.hosts ?? []).join(',')}\n`,
      );
  }
  w.write(0, 'Rules:\n  Host\tPath\tBackends\n');
  w.write(1, '----\t----\t--------\n');
  let count = 0;
  for (const rule of spec.rules ?? []) {
    if (!rule.http) continue;
    count++;
    w.write(1, `${rule.host || '*'}\t\n`);
    for (const path of rule.http.paths ?? [])
      w.write(2, `\t${path.path ?? ''} \t${ingressBackend(path.backend ?? {}, ns, rel)}\n`);
  }
  if (!count) w.write(1, `*\t*\t${def}\n`);
  annotationsMultiline(w, 'Annotations', ing.metadata.annotations);
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

function peers(w: PrefixWriter, rules: Obj[] | undefined, dir: 'From' | 'To', indent: string): void {
  const key = dir === 'From' ? 'from' : 'to';
  if (!(rules ?? []).length) {
    w.write(
      0,
      `${indent}<none> (Selected pods are isolated for ${dir === 'From' ? 'ingress' : 'egress'} connectivity)\n`,
    );
    return;
  }
  rules!.forEach((rule, i) => {
    if (!(rule.ports ?? []).length) w.write(0, `${indent}To Port: <any> (traffic allowed to all ports)\n`);
    for (const p of rule.ports ?? []) {
      const port = p.port === undefined ? '<nil>' : String(p.port);
      w.write(
        0,
        p.endPort === undefined
          ? `${indent}To Port: ${port}/${p.protocol ?? 'TCP'}\n`
          : `${indent}To Port Range: ${port}-${p.endPort}/${p.protocol ?? 'TCP'}\n`,
      );
    }
    const list: Obj[] = rule[key] ?? [];
    if (!list.length)
      w.write(0, `${indent}${dir}: <any> (traffic not restricted by ${dir === 'From' ? 'source' : 'destination'})\n`);
    for (const peer of list) {
      w.write(0, `${indent}${dir}:\n`);
      if (peer.podSelector && peer.namespaceSelector) {
        w.write(1, `${indent}NamespaceSelector: ${formatLabelSelector(peer.namespaceSelector)}\n`);
        w.write(1, `${indent}PodSelector: ${formatLabelSelector(peer.podSelector)}\n`);
      } else if (peer.podSelector) w.write(1, `${indent}PodSelector: ${formatLabelSelector(peer.podSelector)}\n`);
      else if (peer.namespaceSelector)
        w.write(1, `${indent}NamespaceSelector: ${formatLabelSelector(peer.namespaceSelector)}\n`);
      else if (peer.ipBlock) {
        w.write(1, `${indent}IPBlock:\n`);
        w.write(2, `${indent}CIDR: ${peer.ipBlock.cidr}\n`);
        w.write(2, `${indent}Except: ${(peer.ipBlock.except ?? []).join(', ')}\n`);
      }
    }
    if (i !== rules!.length - 1) w.write(0, `${indent}----------\n`);
  });
}

export function describeNetworkPolicy(np: Obj): string {
  const w = new PrefixWriter();
  const spec = np.spec ?? {};
  w.write(0, `Name:\t${np.metadata.name}\n`);
  w.write(0, `Namespace:\t${np.metadata.namespace ?? ''}\n`);
  w.write(0, `Created on:\t${goTimeString(np.metadata.creationTimestamp)}\n`);
  labelsMultiline(w, 'Labels', np.metadata.labels);
  annotationsMultiline(w, 'Annotations', np.metadata.annotations);
  w.write(0, 'Spec:\n');
  w.write(1, 'PodSelector: ');
  const sel = spec.podSelector ?? {};
  w.write(
    2,
    !Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length
      ? '<none> (Allowing the specific traffic to all pods in this namespace)\n'
      : `${formatLabelSelector(sel)}\n`,
  );
  const types: string[] = spec.policyTypes ?? [];
  if (types.includes('Ingress')) {
    w.write(1, 'Allowing ingress traffic:\n');
    peers(w, spec.ingress, 'From', '    ');
  } else w.write(1, 'Not affecting ingress traffic\n');
  if (types.includes('Egress')) {
    w.write(1, 'Allowing egress traffic:\n');
    peers(w, spec.egress, 'To', '    ');
  } else w.write(1, 'Not affecting egress traffic\n');
  w.write(1, `Policy Types: ${types.join(', ')}\n`);
  return w.toString();
}

export function describeEndpointSlice(eps: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  w.write(0, `Name:\t${eps.metadata.name}\n`);
  w.write(0, `Namespace:\t${eps.metadata.namespace ?? ''}\n`);
  labelsMultiline(w, 'Labels', eps.metadata.labels);
  annotationsMultiline(w, 'Annotations', eps.metadata.annotations);
  w.write(0, `AddressType:\t${eps.addressType ?? ''}\n`);
  const ports: Obj[] = eps.ports ?? [];
  if (!ports.length) w.write(0, 'Ports: <unset>\n');
  else {
    w.write(0, 'Ports:\n');
    w.write(1, 'Name\tPort\tProtocol\n');
    w.write(1, '----\t----\t--------\n');
    for (const p of ports) w.write(1, `${p.name || '<unset>'}\t${p.port ?? '<unset>'}\t${p.protocol ?? ''}\n`);
  }
  const eps2: Obj[] = eps.endpoints ?? [];
  if (!eps2.length) w.write(0, 'Endpoints: <none>\n');
  else {
    w.write(0, 'Endpoints:\n');
    for (const e of eps2) {
      w.write(1, `- Addresses:\t${(e.addresses ?? []).join(', ') || '<none>'}\n`);
      w.write(2, 'Conditions:\n');
      w.write(3, `Ready:\t${e.conditions?.ready === undefined ? '<unset>' : String(e.conditions.ready)}\n`);
      w.write(2, `Hostname:\t${e.hostname ?? '<unset>'}\n`);
      if (e.targetRef) w.write(2, `TargetRef:\t${e.targetRef.kind}/${e.targetRef.name}\n`);
      w.write(2, `NodeName:\t${e.nodeName ?? '<unset>'}\n`);
      w.write(2, `Zone:\t${e.zone ?? '<unset>'}\n`);
    }
  }
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}

export function describeIngressClass(ic: Obj, rel: Related, nowMs: number): string {
  const w = new PrefixWriter();
  w.write(0, `Name:\t${ic.metadata.name}\n`);
  labelsMultiline(w, 'Labels', ic.metadata.labels);
  annotationsMultiline(w, 'Annotations', ic.metadata.annotations);
  w.write(0, `Controller:\t${ic.spec?.controller ?? ''}\n`);
  const p = ic.spec?.parameters;
  if (p) {
    w.write(0, 'Parameters:\n');
    if (p.apiGroup) w.write(1, `APIGroup:\t${p.apiGroup}\n`);
    w.write(1, `Kind:\t${p.kind}\n`);
    w.write(1, `Name:\t${p.name}\n`);
  }
  describeEvents(w, rel.events, nowMs);
  return w.toString();
}
