import { describe, it, expect } from 'vitest';
import { requestInfo } from '../../../../src/control/auth/index.js';

// Kubernetes' RequestInfoFactory, case by case (k8s.io/apiserver/pkg/endpoints/request/requestinfo_test.go).
const pick = (method: string, url: string) => {
  const i = requestInfo(method, url);
  return [i.verb, i.apiGroup, i.namespace, i.resource, i.subresource, i.name, i.resourceRequest];
};

describe('requestInfo', () => {
  it.each([
    ['GET', '/api/v1/namespaces', ['list', '', '', 'namespaces', '', '', true]],
    ['GET', '/api/v1/namespaces/other', ['get', '', 'other', 'namespaces', '', 'other', true]],
    ['GET', '/api/v1/namespaces/other/status', ['get', '', 'other', 'namespaces', 'status', 'other', true]],
    ['GET', '/api/v1/namespaces/other/pods', ['list', '', 'other', 'pods', '', '', true]],
    ['GET', '/api/v1/namespaces/other/pods?watch=true', ['watch', '', 'other', 'pods', '', '', true]],
    ['GET', '/api/v1/namespaces/other/pods?watch=1', ['watch', '', 'other', 'pods', '', '', true]],
    ['GET', '/api/v1/namespaces/other/pods/foo', ['get', '', 'other', 'pods', '', 'foo', true]],
    ['GET', '/api/v1/namespaces/other/pods/foo/log', ['get', '', 'other', 'pods', 'log', 'foo', true]],
    ['POST', '/api/v1/namespaces/other/pods', ['create', '', 'other', 'pods', '', '', true]],
    ['PUT', '/api/v1/namespaces/other/pods/foo', ['update', '', 'other', 'pods', '', 'foo', true]],
    ['PATCH', '/api/v1/namespaces/other/pods/foo', ['patch', '', 'other', 'pods', '', 'foo', true]],
    ['DELETE', '/api/v1/namespaces/other/pods/foo', ['delete', '', 'other', 'pods', '', 'foo', true]],
    ['DELETE', '/api/v1/namespaces/other/pods', ['deletecollection', '', 'other', 'pods', '', '', true]],
    ['GET', '/api/v1/pods', ['list', '', '', 'pods', '', '', true]],
    ['GET', '/api/v1/watch/namespaces/other/pods', ['watch', '', 'other', 'pods', '', '', true]],
    ['GET', '/api/v1/nodes/n1', ['get', '', '', 'nodes', '', 'n1', true]],
    ['POST', '/api/v1/namespaces/ns/pods/p/exec', ['create', '', 'ns', 'pods', 'exec', 'p', true]],
    [
      'POST',
      '/api/v1/namespaces/ns/serviceaccounts/default/token',
      ['create', '', 'ns', 'serviceaccounts', 'token', 'default', true],
    ],
    [
      'GET',
      '/apis/apps/v1/namespaces/ns/deployments/web/scale',
      ['get', 'apps', 'ns', 'deployments', 'scale', 'web', true],
    ],
    [
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles',
      ['list', 'rbac.authorization.k8s.io', '', 'clusterroles', '', '', true],
    ],
    [
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      ['create', 'authorization.k8s.io', '', 'selfsubjectaccessreviews', '', '', true],
    ],
    [
      'GET',
      '/api/v1/namespaces/ns/pods?fieldSelector=metadata.name%3Dweb&watch=true',
      ['watch', '', 'ns', 'pods', '', 'web', true],
    ],
    // not resource requests: the lower-cased method and the path
    ['GET', '/api', ['get', '', '', '', '', '', false]],
    ['GET', '/api/v1', ['get', '', '', '', '', '', false]],
    ['GET', '/apis/apps', ['get', '', '', '', '', '', false]],
    ['GET', '/apis/apps/v1', ['get', '', '', '', '', '', false]],
    ['GET', '/healthz', ['get', '', '', '', '', '', false]],
    ['GET', '/livez/ping', ['get', '', '', '', '', '', false]],
    ['POST', '/version', ['post', '', '', '', '', '', false]],
  ] as const)('%s %s', (method, url, want) => {
    expect(pick(method, url)).toEqual(want);
  });

  it('keeps the path of a non-resource request', () => {
    expect(requestInfo('GET', '/openapi/v3/apis/apps/v1?x=1').path).toBe('/openapi/v3/apis/apps/v1');
  });
});
