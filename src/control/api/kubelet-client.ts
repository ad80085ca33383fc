import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

/**
 * How the API server reaches the nodes' :10250 (logs, stats, the streams'
 * upgrades): with kube-apiserver's --kubelet-client-certificate/-key, over
 * TLS presenting that certificate (the agents then refuse anyone else);
 * without, plain HTTP as before. The kubelet's serving certificate is not
 * verified, as kube-apiserver without --kubelet-certificate-authority does
 * not. One setting per API server process (set at start by runApiServer).
 */
let clientCert: { cert: Buffer; key: Buffer } | null = null;

export function useKubeletClientCertificate(c: { cert: Buffer; key: Buffer } | null): void {
  clientCert = c;
}

/** GET on a node's :10250. */
export function kubeletGet(
  o: { host: string; port: number; path: string; timeout: number },
  onResponse: (res: http.IncomingMessage) => void,
): http.ClientRequest {
  return clientCert
    ? https.get({ ...o, cert: clientCert.cert, key: clientCert.key, rejectUnauthorized: false }, onResponse)
    : http.get(o, onResponse);
}

/** A connection to a node's :10250 for an upgrade; `ready` fires once bytes may be written (after TLS's handshake). */
export function kubeletConnect(o: { host: string; port: number }, ready: () => void): net.Socket {
  if (!clientCert) return net.connect(o).once('connect', ready);
  return tls
    .connect({ ...o, cert: clientCert.cert, key: clientCert.key, rejectUnauthorized: false })
    .once('secureConnect', ready);
}
