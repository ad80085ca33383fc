import fs from 'node:fs';
import path from 'node:path';
import { ensurePki, pkiFiles, nodeCertFiles, type PkiFiles, type CertPair } from '../host/index.js';
import { writeKubeconfig, type ApiServerConfig } from '../control/client/index.js';
import type { LabPlan } from './plan.js';

/**
 * The lab's credentials, laid out as kubeadm does on a control-plane node:
 * the PKI in `<control-plane state>/pki` (0700: the lab's state dir is
 * root's and the pod sandbox hides /run/podwire, so no container sees a key)
 * and the admin kubeconfig (`kubernetes-admin`, group system:masters) beside
 * the lab's state — what `podwire kubectl` hands the real kubectl and
 * `podwire lab kubeconfig` prints.
 */
export function labPkiDir(plan: LabPlan): string {
  return path.join(plan.controlPlane.stateDir, 'pki');
}

export function labPki(plan: LabPlan): PkiFiles {
  return pkiFiles(labPkiDir(plan));
}

export function labNodeCert(plan: LabPlan, node: string): CertPair {
  return nodeCertFiles(labPkiDir(plan), node);
}

export function adminKubeconfigPath(plan: LabPlan): string {
  return path.join(plan.stateDir, 'admin.kubeconfig');
}

/** The API server's URL on the lab's underlay (reachable from the lab's namespaces). */
export function labApiServerUrl(plan: LabPlan): string {
  return `https://${plan.controlPlane.ip}:${plan.controlPlane.port}`;
}

/** Make (or keep) the PKI: the API server's certificate names the control plane's address; a certificate per node. */
export async function ensureLabPki(plan: LabPlan): Promise<PkiFiles & { created: string[] }> {
  return ensurePki({
    dir: labPkiDir(plan),
    apiserverIps: [plan.controlPlane.ip],
    nodes: plan.nodes.map((n) => n.name),
  });
}

/** kube-apiserver's TLS and ServiceAccount flags for this lab (pure). */
export function apiServerTlsArgs(plan: LabPlan): string[] {
  const pki = labPki(plan);
  return [
    '--tls-cert-file',
    pki.apiserver.certFile,
    '--tls-private-key-file',
    pki.apiserver.keyFile,
    '--client-ca-file',
    pki.ca.certFile,
    '--service-account-key-file',
    pki.saPub,
    '--service-account-signing-key-file',
    pki.saKey,
    // the nodes' :10250 over TLS, the API server presenting its kubelet client certificate
    '--kubelet-client-certificate',
    pki.apiserverKubeletClient.certFile,
    '--kubelet-client-key',
    pki.apiserverKubeletClient.keyFile,
  ];
}

/**
 * An agent's :10250 over TLS: its node certificate serves (the API server
 * does not verify a kubelet's serving certificate), and only clients of the
 * lab CA that are the API server's kubelet client (or system:masters) get in.
 */
export function agentKubeletTlsArgs(plan: LabPlan, node: string): string[] {
  const pair = labNodeCert(plan, node);
  return [
    '--tls-cert-file',
    pair.certFile,
    '--tls-private-key-file',
    pair.keyFile,
    '--client-ca-file',
    labPki(plan).ca.certFile,
  ];
}

/** A node's kubeconfig beside the PKI (root-only): its agent's credentials, system:node:<name>. */
export function labNodeKubeconfigPath(plan: LabPlan, node: string): string {
  return path.join(labPkiDir(plan), `node-${node}.kubeconfig`);
}

/**
 * Write (or keep) a node's kubeconfig: the lab CA, the API server's HTTPS
 * address on the underlay and the node's certificate — what the agent
 * presents, so the Node authorizer, RBAC's system:node and NodeRestriction
 * govern it as they govern a kubelet. Returns its path.
 */
export function ensureNodeKubeconfig(plan: LabPlan, node: string): string {
  const file = labNodeKubeconfigPath(plan, node);
  if (fs.existsSync(file)) return file;
  const pki = labPki(plan);
  const pair = labNodeCert(plan, node);
  writeKubeconfig(file, {
    cluster: plan.prefix,
    user: `system:node:${node}`,
    server: labApiServerUrl(plan),
    caPem: fs.readFileSync(pki.ca.certFile, 'utf8'),
    certPem: fs.readFileSync(pair.certFile, 'utf8'),
    keyPem: fs.readFileSync(pair.keyFile, 'utf8'),
  });
  return file;
}

/** Write the admin kubeconfig (embedded certificates: it can be copied anywhere); returns its path. */
export function writeAdminKubeconfig(plan: LabPlan): string {
  const pki = labPki(plan);
  const file = adminKubeconfigPath(plan);
  writeKubeconfig(file, {
    cluster: plan.prefix,
    user: 'kubernetes-admin',
    server: labApiServerUrl(plan),
    caPem: fs.readFileSync(pki.ca.certFile, 'utf8'),
    certPem: fs.readFileSync(pki.admin.certFile, 'utf8'),
    keyPem: fs.readFileSync(pki.admin.keyFile, 'utf8'),
    namespace: 'default',
  });
  return file;
}

/** The admin's connection (for clients in the lab's namespaces that use TCP, as kubectl does). */
export function labAdminConfig(plan: LabPlan): ApiServerConfig {
  const pki = labPki(plan);
  return {
    server: labApiServerUrl(plan),
    ca: fs.readFileSync(pki.ca.certFile),
    cert: fs.readFileSync(pki.admin.certFile),
    key: fs.readFileSync(pki.admin.keyFile),
  };
}

/**
 * A cluster's kubeconfigs beside its PKI (compose: the apiserver container
 * writes them into the volume the others mount read-only): admin.kubeconfig
 * (kubernetes-admin, system:masters: the podwire CLI, the demo, the cloud
 * load balancer) and node-<name>.kubeconfig (system:node:<name>: that node's
 * agent). Returns the files written.
 */
export function writeClusterKubeconfigs(opts: {
  pkiDir: string;
  server: string;
  nodes: string[];
  cluster?: string;
}): string[] {
  const pki = pkiFiles(opts.pkiDir);
  const caPem = fs.readFileSync(pki.ca.certFile, 'utf8');
  const cluster = opts.cluster ?? 'podwire';
  const users: [string, string, CertPair][] = [
    ['admin.kubeconfig', 'kubernetes-admin', pki.admin],
    ...opts.nodes.map((n): [string, string, CertPair] => [
      `node-${n}.kubeconfig`,
      `system:node:${n}`,
      nodeCertFiles(opts.pkiDir, n),
    ]),
  ];
  return users.map(([file, user, pair]) => {
    const out = path.join(opts.pkiDir, file);
    writeKubeconfig(out, {
      cluster,
      user,
      server: opts.server,
      caPem,
      certPem: fs.readFileSync(pair.certFile, 'utf8'),
      keyPem: fs.readFileSync(pair.keyFile, 'utf8'),
    });
    return out;
  });
}
