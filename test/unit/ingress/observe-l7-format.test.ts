// The ingress controller's L7 hop as `podwire observe` prints it: each
// finished request as Hubble's http-request / http-response pair, with the
// route matched and the backend chosen, and the filters observe applies.

import { describe, expect, it } from 'vitest';
import type { HttpEvent } from '../../../src/ingress/controller/l7-events.js';
import {
  formatHttpEvent,
  l7Verdict,
  latencyText,
  matchHttp,
  requestUrl,
  type L7Record,
} from '../../../src/observe/l7-format.js';

const CTL = { name: 'ingress-nginx/ingress-nginx-controller-6b9c-x2k4p', ip: '10.244.2.3' };
const names: Record<string, string> = { '10.244.1.4': 'client' };
const namer = (ip: string) => names[ip];

function ev(over: Partial<HttpEvent> = {}): HttpEvent {
  return {
    type: 'http',
    time: '2026-12-07T10:04:05.123Z',
    pod: 'ingress-nginx-controller-6b9c-x2k4p',
    node: 'node2',
    client: '10.244.1.4',
    method: 'GET',
    host: 'app.example.com',
    uri: '/api/users?page=2',
    port: 80,
    tls: false,
    route: { kind: 'Ingress', name: 'default/app', rule: 'app.example.com/api (Prefix)' },
    backend: 'default/api-service:80',
    upstream: '10.96.0.12:80',
    status: 200,
    upstreamStatus: 200,
    latencyMs: 3.456,
    bytes: 612,
    ...over,
  };
}
const rec = (e: HttpEvent): L7Record => ({ event: e, controller: CTL });

describe('formatHttpEvent', () => {
  it('a proxied request: the request when it arrived, the response when it ended, route and backend named', () => {
    expect(formatHttpEvent(rec(ev()), namer)).toEqual([
      '10:04:05.123  node2  client (10.244.1.4) -> ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-request FORWARDED (HTTP/1.1 GET http://app.example.com/api/users?page=2)  Ingress/default/app app.example.com/api (Prefix) => default/api-service:80 (10.96.0.12:80)',
      '10:04:05.126  node2  client (10.244.1.4) <- ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-response FORWARDED (HTTP/1.1 200 3.5ms (GET http://app.example.com/api/users?page=2))  from default/api-service:80 (10.96.0.12:80), 612 B',
    ]);
  });

  it('a missing backend Service: DROPPED, answered by the controller with the reason', () => {
    const e = ev({
      uri: '/gone/x',
      status: 503,
      upstreamStatus: undefined,
      backend: undefined,
      upstream: undefined,
      bytes: 54,
      latencyMs: 0.41,
      reason: 'Service default/nope not found',
      client: '172.28.0.100',
      route: { kind: 'Ingress', name: 'default/app', rule: 'app.example.com/gone (Prefix)' },
    });
    expect(formatHttpEvent(rec(e), namer)).toEqual([
      '10:04:05.123  node2  172.28.0.100 -> ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-request DROPPED (HTTP/1.1 GET http://app.example.com/gone/x)  Ingress/default/app app.example.com/gone (Prefix): Service default/nope not found',
      '10:04:05.123  node2  172.28.0.100 <- ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-response DROPPED (HTTP/1.1 503 0.4ms (GET http://app.example.com/gone/x))  answered by the controller: Service default/nope not found',
    ]);
  });

  it('no route: 404 with the model’s reason', () => {
    const e = ev({
      uri: '/nothing',
      route: undefined,
      backend: undefined,
      upstream: undefined,
      upstreamStatus: undefined,
      status: 404,
      reason: 'no Ingress rule matches host app.example.com path /nothing',
      latencyMs: 0.2,
    });
    expect(formatHttpEvent(rec(e), namer)[0]).toBe(
      '10:04:05.123  node2  client (10.244.1.4) -> ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-request DROPPED (HTTP/1.1 GET http://app.example.com/nothing)  no route: no Ingress rule matches host app.example.com path /nothing',
    );
  });

  it('an upstream that did not connect: DROPPED, the backend tried still named', () => {
    const e = ev({
      status: 504,
      upstreamStatus: undefined,
      reason: 'timed out connecting to 10.96.0.12:80',
      latencyMs: 5003.4,
      bytes: 0,
    });
    expect(formatHttpEvent(rec(e), namer)).toEqual([
      '10:04:05.123  node2  client (10.244.1.4) -> ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-request DROPPED (HTTP/1.1 GET http://app.example.com/api/users?page=2)  Ingress/default/app app.example.com/api (Prefix) => default/api-service:80 (10.96.0.12:80): timed out connecting to 10.96.0.12:80',
      '10:04:10.126  node2  client (10.244.1.4) <- ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-response DROPPED (HTTP/1.1 504 5003ms (GET http://app.example.com/api/users?page=2))  answered by the controller: timed out connecting to 10.96.0.12:80',
    ]);
  });

  it('the ssl-redirect: REDIRECTED; HTTPS on a Gateway listener port keeps the port in the URL; a WebSocket says it was upgraded', () => {
    const r = ev({
      status: 308,
      upstreamStatus: undefined,
      backend: undefined,
      upstream: undefined,
      reason: 'ssl-redirect to https://app.example.com/api/users?page=2',
    });
    expect(formatHttpEvent(rec(r), namer)[1]).toBe(
      '10:04:05.126  node2  client (10.244.1.4) <- ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-response REDIRECTED (HTTP/1.1 308 3.5ms (GET http://app.example.com/api/users?page=2))  redirected by the controller: ssl-redirect to https://app.example.com/api/users?page=2',
    );
    expect(requestUrl(ev({ tls: true, port: 8443, uri: '/' }))).toBe('https://app.example.com:8443/');
    expect(requestUrl(ev({ tls: true, port: 443, uri: '/' }))).toBe('https://app.example.com/');
    const ws = ev({ status: 101, upstreamStatus: 101, upgraded: true, latencyMs: 12_345.6, uri: '/ws' });
    expect(formatHttpEvent(rec(ws), namer)[1]).toBe(
      '10:04:17.468  node2  client (10.244.1.4) <- ingress-nginx/ingress-nginx-controller-6b9c-x2k4p:80 (10.244.2.3)  http-response FORWARDED (HTTP/1.1 101 12346ms (GET http://app.example.com/ws))  from default/api-service:80 (10.96.0.12:80), upgraded (WebSocket), 612 B',
    );
  });

  it('verdicts and latency as Hubble words them', () => {
    expect(l7Verdict(ev())).toBe('FORWARDED');
    expect(l7Verdict(ev({ status: 502, upstreamStatus: 502 }))).toBe('FORWARDED'); // the backend's own 502
    expect(l7Verdict(ev({ status: 429, upstreamStatus: undefined }))).toBe('DROPPED');
    expect(l7Verdict(ev({ status: 499, upstreamStatus: undefined }))).toBe('DROPPED');
    expect(l7Verdict(ev({ status: 301, upstreamStatus: undefined }))).toBe('REDIRECTED');
    expect([0.04, 3.456, 9.96, 10, 1234.5].map(latencyText)).toEqual(['0ms', '3.5ms', '10ms', '10ms', '1235ms']);
  });
});

describe('matchHttp: observe’s filters on L7 events', () => {
  const r = rec(ev());
  it('--pod matches the client or the controller pod, not others', () => {
    expect(matchHttp(r, { podIps: new Set(['10.244.1.4']) })).toBe(true);
    expect(matchHttp(r, { podIps: new Set([CTL.ip]) })).toBe(true);
    expect(matchHttp(r, { podIps: new Set(['10.244.3.9']) })).toBe(false);
  });
  it('--verdict, --service (the backend, by name or ns/name), --port (the listener), --node (the controller’s)', () => {
    expect(matchHttp(r, { verdict: 'forwarded' })).toBe(true);
    expect(matchHttp(r, { verdict: 'DROPPED' })).toBe(false);
    expect(matchHttp(r, { service: 'api-service' })).toBe(true);
    expect(matchHttp(r, { service: 'default/api-service' })).toBe(true);
    expect(matchHttp(r, { service: 'web' })).toBe(false);
    expect(matchHttp(r, { port: 80 })).toBe(true);
    expect(matchHttp(r, { port: 443 })).toBe(false);
    expect(matchHttp(r, { node: 'node2' })).toBe(true);
    expect(matchHttp(r, { node: 'node1' })).toBe(false);
  });
  it('--dns and --policy select no L7 event', () => {
    expect(matchHttp(r, { dns: true })).toBe(false);
    expect(matchHttp(r, { policy: 'default-deny' })).toBe(false);
  });
});
