import type { ExampleEntry } from './catalogue.js';

/**
 * What to try once an example runs: exact commands with the lab's
 * addresses and the right namespace. Pure: `run` reads the facts (cluster
 * IPs, EXTERNAL-IPs, node addresses) from the API server once everything is
 * Ready and passes them in.
 */
export interface ServiceFacts {
  clusterIP?: string;
  externalIP?: string;
  nodePorts: number[];
}

export interface HintFacts {
  /** the lab's name; hints carry `--lab <name>` when it is not the default lab */
  lab: string;
  defaultLab: string;
  /** how to run the real kubectl against the lab (`podwire kubectl`), or null when unknown */
  kubectl: string | null;
  /** by `namespace/name` */
  services: Record<string, ServiceFacts>;
  /** the nodes' underlay addresses, in node order */
  nodeIPs: string[];
  /** the ingress controller's EXTERNAL-IP */
  ingressIP?: string;
  /** the Gateway's address (status.addresses) */
  gatewayIP?: string;
  /** the lab's outside www machine (172.28.0.200), when the lab has one */
  wwwIP?: string;
}

export interface Hint {
  command: string;
  comment: string;
}

/** `podwire` with `--lab <name>` when the lab is not the default one. */
export function podwireCommand(lab: string, defaultLab: string): string {
  return lab === defaultLab ? 'podwire' : `podwire --lab ${lab}`;
}

/** Commands padded to one column, then their comments: the lines `run` prints. */
export function formatHints(hints: Hint[], indent = '  '): string[] {
  const width = Math.min(72, Math.max(...hints.map((h) => h.command.length)));
  return hints.map((h) => `${indent}${h.command.padEnd(width)}   # ${h.comment}`);
}

export function hintsFor(e: ExampleEntry, f: HintFacts): Hint[] {
  const pw = podwireCommand(f.lab, f.defaultLab);
  const ns = e.namespace ?? 'default';
  const h = (command: string, comment: string): Hint => ({ command, comment });
  const svc = (name: string, namespace = ns): ServiceFacts =>
    f.services[`${namespace}/${name}`] ?? { nodePorts: [] };
  const ip = (v: string | undefined, what: string) => v ?? `<${what}>`;
  const inPod = (pod: string, cmd: string, namespace = ns) => `${pw} exec -n ${namespace} ${pod} -- ${cmd}`;
  const outside = (cmd: string) => `${pw} lab exec client -- ${cmd}`;
  const www = f.wwwIP ?? '172.28.0.200';
  const kubectl = (args: string, comment: string): Hint[] => (f.kubectl ? [h(`${f.kubectl} ${args}`, comment)] : []);
  const probe = (ports: string, comment: string, namespace = ns) =>
    h(`${pw} probe -n ${namespace} --ports ${ports} --protocols tcp`, comment);
  const out: Hint[] = [];

  switch (e.name) {
    case '000-service-clusterip':
    case '003-service-clusterip': {
      const name = e.name === '000-service-clusterip' ? 'backend' : 'backend-service';
      out.push(
        h(
          inPod('client', `curl -s ${ip(svc(name).clusterIP, 'CLUSTER-IP')}/`),
          `the ClusterIP, port 80 → a backend pod's 8080 (the page names the pod)`,
        ),
        h(inPod('client', `curl -s ${name}/`), `by name: ${name}.${ns}.svc.cluster.local`),
        h(`${pw} get endpoints -n ${ns} ${name}`, 'the app: backend pods behind it'),
      );
      break;
    }
    case '000-service-nodeport': {
      const port = svc('web').nodePorts[0] ?? 30080;
      f.nodeIPs.forEach((n, i) =>
        out.push(
          h(
            outside(`curl -s ${n}:${port}/`),
            i === 0 ? 'from outside the cluster: the NodePort on node1' : `the same port on node${i + 1}`,
          ),
        ),
      );
      out.push(h(`${pw} get svc -n ${ns} web`, 'TYPE NodePort, PORT(S) 80:30080/TCP'));
      break;
    }
    case '000-service-loadbalancer':
      out.push(
        h(`${pw} get svc -n ${ns} web-public`, 'the EXTERNAL-IP the lab’s cloud load balancer gave it'),
        h(
          outside(`curl -s http://${ip(svc('web-public').externalIP, 'EXTERNAL-IP')}:443/`),
          '443 → a pod’s 8443 (podwire’s nginx answers plain HTTP there)',
        ),
      );
      break;
    case '000-service-headless':
    case '003-service-headless': {
      const name = e.name === '000-service-headless' ? 'postgres' : 'database';
      out.push(
        h(inPod('client', `nslookup ${name}`), 'no virtual IP: every ready pod’s address'),
        h(inPod('client', `nslookup ${name}-0.${name}`), 'one pod of the StatefulSet by name'),
        h(`${pw} get svc,endpoints -n ${ns} ${name}`, 'CLUSTER-IP None'),
      );
      break;
    }
    case '000-ingress-tls-path-routing':
    case '003-ingress-path-routing-tls': {
      const lb = ip(f.ingressIP, 'INGRESS-IP');
      const https = (path: string) => {
        const url = `https://app.example.com${path}`;
        return outside(`curl -sk --resolve app.example.com:443:${lb} ${/[?&*]/.test(url) ? `'${url}'` : url}`);
      };
      if (e.name === '000-ingress-tls-path-routing')
        out.push(
          h(https('/api'), 'through the ingress controller → api-service'),
          h(https('/'), '→ frontend-service'),
          h(
            outside(`curl -si --resolve app.example.com:80:${lb} http://app.example.com/`),
            '308 to https:// (ssl-redirect)',
          ),
        );
      else
        out.push(
          h(https('/api/users?id=7'), '→ backend-service, rewritten to /?id=7'),
          h(`${pw} logs -n ${ns} -l app=backend`, 'the request line the backend saw'),
          h(https('/about/team'), '→ frontend-service'),
        );
      out.push(h(`${pw} describe ingress -n ${ns} app-ingress`, 'its rules, backends and events'));
      out.push(
        ...kubectl(
          'logs -n ingress-nginx -l app.kubernetes.io/name=ingress-nginx --tail 5',
          'the controller’s access log',
        ),
      );
      break;
    }
    case '000-gateway-httproute-canary':
      out.push(
        h(`${pw} get gateway -n infra main-gateway`, 'Programmed, with an address of its own'),
        h(`${pw} get httproute -n app-team api-route`, 'attached from app-team'),
        h(
          outside(
            `curl -sk --resolve api.example.com:443:${ip(f.gatewayIP, 'GATEWAY-IP')} https://api.example.com/v2`,
          ),
          'api-v2 (90%) or api-v3 (10%): the page names the pod',
        ),
      );
      break;
    case '000-networkpolicy-default-deny-all':
      out.push(
        probe('80,8080', 'every pair blocked, both ways', 'production'),
        h(inPod('web', 'nslookup -timeout=2 api', 'production'), 'times out: DNS egress is denied too'),
        h(`${pw} observe --verdict DROPPED`, 'policy-denied-… isolated by production/default-deny-all'),
      );
      break;
    case '000-networkpolicy-allow-web-to-api-and-dns-egress':
      out.push(
        h(`${pw} explain-policy production/web svc/production/api:8080`, 'ingress allowed; egress too, unless a deny-all isolates web'),
        h(inPod('web', 'curl -s -m 3 api:8080/', 'production'), 'web → api on 8080 (DNS allowed by allow-dns-egress)'),
        probe('80,8080', 'who reaches whom now', 'production'),
      );
      break;
    case '003-networkpolicy-default-deny':
      out.push(
        probe('80,8080', 'no connection reaches a production pod', 'production'),
        h(inPod('web', `curl -sk -m 3 https://${www}/`, 'production'), 'answers: the pods’ own egress still works'),
      );
      break;
    case '003-networkpolicy-allow-frontend-to-backend':
      out.push(
        h(inPod('frontend', 'curl -s -m 3 backend:8080/', 'production'), 'app: frontend → app: backend on 8080'),
        h(inPod('web', 'curl -s -m 3 backend:8080/', 'production'), 'times out: web is not app: frontend'),
        h(`${pw} describe netpol -n production allow-frontend-to-backend`, 'whom it admits now'),
        probe('80,8080', 'only frontend → backend:8080 reaches backend', 'production'),
      );
      break;
    case '003-networkpolicy-allow-egress-external-api':
      out.push(
        h(inPod('backend', `curl -sk -m 3 https://${www}/`), 'answers: TCP 443 to anywhere'),
        h(inPod('backend', `curl -s -m 3 http://${www}/`), 'times out: port 80 is not allowed'),
        h(inPod('other', `curl -s -m 3 http://${www}/`), 'answers: other is not app: backend'),
        h(
          `${pw} describe netpol -n ${ns} allow-external-api`,
          'the name: kube-system rule reaches no pod (so no DNS either)',
        ),
      );
      break;
    case '003-networkpolicy-strategy':
      out.push(
        probe('8080', 'as written every pair is blocked: nothing allows egress'),
        h(`${pw} explain-policy ${ns}/frontend ${ns}/backend:8080`, 'backend’s ingress allowed, frontend’s egress denied'),
        h(`${pw} observe --verdict DROPPED`, `policy-denied-egress … isolated by ${ns}/default-deny-all`),
      );
      break;
    case '003-multi-tier-services':
      out.push(
        h(
          outside(`curl -s ${ip(svc('frontend').externalIP, 'EXTERNAL-IP')}/`),
          'frontend’s EXTERNAL-IP, 80 → a pod’s 3000',
        ),
        h(inPod('client', 'curl -s backend:8080/'), 'backend by name, its ClusterIP'),
        h(inPod('client', 'nslookup database-0.database'), 'the headless database: one pod by name'),
      );
      break;
    case '003-multi-container-pod':
      out.push(
        h(`${pw} logs -n ${ns} multi-container-pod -c sidecar --tail 3`, 'the sidecar fetching nginx on localhost:80'),
        h(
          `${pw} exec -n ${ns} multi-container-pod -c sidecar -- wget -qO- localhost:80`,
          'one network namespace for both containers',
        ),
      );
      break;
    case '003-service-externalname':
      out.push(
        h(inPod('client', 'nslookup external-db'), 'a CNAME to database.example.com, then its A record'),
        h(inPod('client', 'curl -s external-db/'), 'the lab’s www machine answers'),
      );
      break;
  }
  out.push(h(`${pw} get all -n ${e.home} -l podwire.dev/example`, 'what example runs made there'));
  out.push(h(`${pw} example delete ${e.name}`, 'remove it again'));
  return out;
}
