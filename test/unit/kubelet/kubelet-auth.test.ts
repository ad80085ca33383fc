import { describe, expect, it } from 'vitest';
import { judgeKubeletClient, KUBELET_CLIENT_CN } from '../../../src/kubelet/kubelet-auth.js';

describe(':10250 authentication and authorization', () => {
  it('no certificate, or one the CA did not sign: 401', () => {
    expect(judgeKubeletClient(false, undefined, 'path=/x')).toEqual({ ok: false, code: 401, message: 'Unauthorized' });
    expect(judgeKubeletClient(false, { CN: KUBELET_CLIENT_CN }, 'path=/x')).toMatchObject({ code: 401 });
  });

  it('the API server’s kubelet client and system:masters get in; anyone else of the CA is 403 with the kubelet’s words', () => {
    expect(judgeKubeletClient(true, { CN: KUBELET_CLIENT_CN }, 'path=/x')).toEqual({
      ok: true,
      user: KUBELET_CLIENT_CN,
    });
    expect(judgeKubeletClient(true, { CN: 'kubernetes-admin', O: ['system:masters'] }, 'p')).toMatchObject({
      ok: true,
    });
    expect(judgeKubeletClient(true, { CN: 'system:node:node2', O: 'system:nodes' }, 'path=/stats/summary')).toEqual({
      ok: false,
      code: 403,
      message: 'Forbidden (user=system:node:node2, verb=get, resource=nodes, subresource=proxy, path=/stats/summary)',
    });
  });
});
