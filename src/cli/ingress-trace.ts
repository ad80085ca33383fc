import { ApiClient, type KubeObject } from '../control/client/index.js';
import { compileRoutes, type ClusterObjects, type RequestInfo } from '../ingress/index.js';
import { labPods, type LabState, controllerPods, labApiServer, type ControllerPod } from '../lab/index.js';
import {
  composeHttpTrace,
  parseHttpTarget,
  type Frontend,
  type HttpTraceResult,
  type PacketLeg,
  certificateWords,
  explainRoute,
} from '../trace/index.js';
import { trace, type TraceOptions } from './trace.js';
import { CliError } from './verbs/deps.js';

/**
 * `podwire trace <pod> http(s)://host[:port]/path`: gathers what the
 * ladder needs (src/trace/http-ladder.ts) — leg 1, the pod's probe to
 * where the name resolves (trace's DNS and packet layers); the Service
 * frontend that address is and the controller pod it reached; the route
 * table compiled here, from the API objects, as that controller compiles
 * it (its own flags: classes, ports, --watch-namespace); and leg 2, a
 * probe from the controller pod to the chosen backend Service's ClusterIP,
 * which is where the proxy connects.
 */
export { parseHttpTarget };

type Obj = KubeObject;

/** Which Service frontend is address:port (TCP)? LoadBalancer ingress IPs, externalIPs, ClusterIPs, and node IPs with a NodePort. */
export function findFrontend(
  services: Obj[],
  slices: Obj[],
  address: string,
  port: number,
  nodeIps: string[],
): (Frontend & { svc: Obj }) | undefined {
  for (const svc of services) {
    const spec = svc.spec ?? {};
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    for (const p of spec.ports ?? []) {
      if ((p.protocol ?? 'TCP') !== 'TCP') continue;
      let type: string | undefined;
      if (p.port === port) {
        if ((svc.status?.loadBalancer?.ingress ?? []).some((i: Obj) => i.ip === address)) type = 'LoadBalancer';
        else if ((spec.externalIPs ?? []).includes(address)) type = 'ExternalIP';
        else if (spec.clusterIP === address || (spec.clusterIPs ?? []).includes(address)) type = 'ClusterIP';
      }
      if (!type && p.nodePort === port && nodeIps.includes(address)) type = 'NodePort';
      if (type) return { service: key, type, address, port, targetPort: targetPortOf(svc, p, slices), svc };
    }
  }
  return undefined;
}

/** The pod port a Service port leads to: a number, or a name its EndpointSlices resolved. */
function targetPortOf(svc: Obj, p: Obj, slices: Obj[]): number {
  if (typeof p.targetPort === 'number') return p.targetPort;
  if (p.targetPort === undefined) return p.port;
  const own = slices.filter(
    (s) =>
      s.metadata.namespace === svc.metadata.namespace &&
      s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name,
  );
  for (const s of own)
    for (const sp of s.ports ?? []) if ((sp.name ?? '') === (p.name ?? '') && sp.port) return sp.port;
  return p.port;
}

/** The controller pods a Service's EndpointSlices list as ready. */
function controllersBehind(svc: Obj, slices: Obj[], ctls: ControllerPod[]): ControllerPod[] {
  const ips = new Set<string>();
  for (const s of slices) {
    if (
      s.metadata.namespace !== svc.metadata.namespace ||
      s.metadata.labels?.['kubernetes.io/service-name'] !== svc.metadata.name
    )
      continue;
    for (const e of s.endpoints ?? []) if (e.conditions?.ready !== false) for (const a of e.addresses ?? []) ips.add(a);
  }
  return ctls.filter((c) => ips.has(c.ip));
}

/** The Ingresses and HTTPRoutes that name this host (exactly, or by a wildcard). */
export function routesNaming(host: string, ingresses: Obj[], httpRoutes: Obj[]): string[] {
  const matches = (h: string) =>
    h === host || (h.startsWith('*.') && host.endsWith(h.slice(1)) && !host.slice(0, -h.length + 1).includes('.'));
  const out: string[] = [];
  for (const i of ingresses)
    if ((i.spec?.rules ?? []).some((r: Obj) => r.host && matches(String(r.host).toLowerCase())))
      out.push(`Ingress ${i.metadata.namespace}/${i.metadata.name}`);
  for (const r of httpRoutes)
    if ((r.spec?.hostnames ?? []).some((h: string) => matches(h.toLowerCase())))
      out.push(`HTTPRoute ${r.metadata.namespace}/${r.metadata.name}`);
  return out;
}

const list = async (client: ApiClient, r: string): Promise<Obj[]> => {
  try {
    return (await client.list(r)).items;
  } catch {
    return []; // a kind the API server does not serve is a kind with no objects
  }
};

async function clusterObjects(
  client: ApiClient,
  ctl: ControllerPod,
): Promise<ClusterObjects & { endpointSlices: Obj[] }> {
  const [
    ingresses,
    ingressClasses,
    gatewayClasses,
    gateways,
    httpRoutes,
    referenceGrants,
    services,
    secrets,
    namespaces,
    endpointSlices,
  ] = await Promise.all(
    [
      'ingresses',
      'ingressclasses',
      'gatewayclasses',
      'gateways',
      'httproutes',
      'referencegrants',
      'services',
      'secrets',
      'namespaces',
      'endpointslices',
    ].map((r) => list(client, r)),
  );
  return {
    ingresses: ctl.args.watchNamespace
      ? ingresses.filter((i) => i.metadata.namespace === ctl.args.watchNamespace)
      : ingresses,
    ingressClasses,
    gatewayClasses,
    gateways,
    httpRoutes,
    referenceGrants,
    services,
    secrets: secrets.filter((s) => s.type === 'kubernetes.io/tls'),
    namespaces,
    endpointSlices,
  };
}

const leg = (o: Awaited<ReturnType<typeof trace>>): PacketLeg => ({
  result: o.result,
  dnsLayers: o.dnsLayers,
  ...(o.address ? { address: o.address } : {}),
  ...(o.deliveredTo ? { deliveredTo: o.deliveredTo } : {}),
});

export async function traceHttp(
  state: LabState,
  srcPod: string,
  url: string,
  opts: TraceOptions,
): Promise<{ result: HttpTraceResult; text: string }> {
  const target = parseHttpTarget(url)!;
  const server = labApiServer(state);
  if (!server)
    throw new CliError(
      'an HTTP trace reads the Ingresses, Services and controller pods from the API server: this lab has none (lab up without --no-control-plane)',
    );
  const pods = await labPods(state);
  const src = pods.find((p) => p.name === srcPod);
  if (!src) throw new CliError(`pod "${srcPod}" not found`, 'ERR_NOT_FOUND');
  const client = new ApiClient(server);
  try {
    const [l1, ctls, services, slices, ingresses, httpRoutes] = await Promise.all([
      trace(state, srcPod, `${target.host}:${target.port}/tcp`, opts),
      controllerPods(client, pods),
      list(client, 'services'),
      list(client, 'endpointslices'),
      list(client, 'ingresses'),
      list(client, 'httproutes'),
    ]);
    const toController = leg(l1);
    const address = l1.address ?? target.host;
    const frontend = findFrontend(
      services,
      slices,
      address,
      target.port,
      state.plan.nodes.map((n) => n.ip),
    );
    let ctl = ctls.find((c) => c.key === l1.deliveredTo);
    // a NodePort of another node: the probe leaves masqueraded and is not followed; that node's agent picks a controller pod
    const npNode =
      frontend?.type === 'NodePort' && !l1.deliveredTo ? state.plan.nodes.find((n) => n.ip === address) : undefined;
    let nodePort: { node: string; localOnly: boolean; controller?: string } | undefined;
    if (npNode && l1.result.verdict === 'DELIVERED') {
      const localOnly = frontend!.svc.spec?.externalTrafficPolicy === 'Local';
      const behind = controllersBehind(frontend!.svc, slices, ctls).filter((c) => !localOnly || c.node === npNode.name);
      ctl = behind[0];
      nodePort = { node: npNode.name, localOnly, ...(ctl ? { controller: ctl.key } : {}) };
    }
    const base = {
      target,
      src: { name: src.name, ip: src.ip, node: src.node },
      toController,
      ...(frontend
        ? {
            frontend: {
              service: frontend.service,
              type: frontend.type,
              address: frontend.address,
              port: frontend.port,
              targetPort: frontend.targetPort,
            },
          }
        : {}),
      claimedBy: routesNaming(target.host, ingresses, httpRoutes),
      ...(nodePort ? { nodePort } : {}),
    };
    if (!ctl || l1.result.verdict !== 'DELIVERED' || (!nodePort && ctl.key !== l1.deliveredTo))
      return composeHttpTrace(base);
    const objs = await clusterObjects(client, ctl);
    const compiled = compileRoutes(objs, {
      ingressController: ctl.args.controllerClass,
      gatewayController: ctl.args.gatewayController,
      httpPort: ctl.args.httpPort,
      httpsPort: ctl.args.httpsPort,
    });
    const port = frontend?.targetPort ?? target.port;
    const tls = target.scheme === 'https';
    const req: RequestInfo = {
      port,
      tls,
      ...(tls ? { sni: target.host } : {}),
      host: target.host,
      method: 'GET',
      path: target.path,
      query: target.query,
      headers: { host: target.host, 'user-agent': 'podwire-trace' },
      clientIp: src.ip,
    };
    const routeStep = explainRoute({
      controller: ctl.key,
      method: 'GET',
      url: target.url,
      host: target.host,
      port,
      tls,
      ...(tls ? { certificate: certificateWords(compiled.table.certificate(target.host, port)?.cert) } : {}),
      decision: compiled.table.route(req),
      routes: compiled.table.describe(),
    });
    const controller = { name: ctl.key, ip: ctl.ip, node: ctl.node };
    if (!routeStep.next) return composeHttpTrace({ ...base, controller, routeStep });
    const l2 = await trace(state, ctl.key, `${routeStep.next.address}:${routeStep.next.port}/tcp`, opts);
    return composeHttpTrace({ ...base, controller, routeStep, toBackend: leg(l2) });
  } finally {
    client.close();
  }
}
