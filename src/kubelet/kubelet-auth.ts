import type { TLSSocket } from 'node:tls';

/**
 * Who may use the agent's :10250 (logs, stats, exec/attach/port-forward) —
 * as a kubelet with anonymous auth off and webhook authorization would
 * answer the API server: a client certificate signed by the cluster CA
 * (else 401), of the API server's kubelet client (CN
 * kube-apiserver-kubelet-client) or of system:masters (else 403). Pure:
 * the subject in, the verdict out.
 */
export const KUBELET_CLIENT_CN = 'kube-apiserver-kubelet-client';

export type KubeletVerdict = { ok: true; user: string } | { ok: false; code: 401 | 403; message: string };

export function judgeKubeletClient(
  authorized: boolean,
  subject: { CN?: string | string[]; O?: string | string[] } | undefined,
  what: string,
): KubeletVerdict {
  const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const cn = list(subject?.CN)[0];
  if (!authorized || !cn) return { ok: false, code: 401, message: 'Unauthorized' };
  if (cn === KUBELET_CLIENT_CN || list(subject?.O).includes('system:masters')) return { ok: true, user: cn };
  return {
    ok: false,
    code: 403,
    message: `Forbidden (user=${cn}, verb=get, resource=nodes, subresource=proxy, ${what})`,
  };
}

/** The verdict for a request that arrived on a TLS socket. */
export function judgeSocket(socket: TLSSocket, what: string): KubeletVerdict {
  const peer = socket.getPeerCertificate?.();
  return judgeKubeletClient(
    socket.authorized === true,
    peer && Object.keys(peer).length ? peer.subject : undefined,
    what,
  );
}
