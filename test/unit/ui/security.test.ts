import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRequest, contentTypeOf, resolveStatic, sseMessage } from '../../../src/ui/index.js';

const s = { port: 8090, token: 'tok' };

describe('who may talk to podwire ui', () => {
  it('serves its own Host only (DNS rebinding: a rebound name is refused)', () => {
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090' }, s)).toBeNull();
    expect(checkRequest({ method: 'GET', host: 'localhost:8090' }, s)).toBeNull();
    expect(checkRequest({ method: 'GET', host: 'evil.example:8090' }, s)?.status).toBe(403);
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:9999' }, s)?.status).toBe(403);
    expect(checkRequest({ method: 'GET' }, s)?.status).toBe(403);
  });

  it('refuses other origins and cross-site fetches, also for GET', () => {
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090', origin: 'http://127.0.0.1:8090' }, s)).toBeNull();
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090', origin: 'http://localhost:8090' }, s)).toBeNull();
    for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:8091', 'https://127.0.0.1:8090'])
      expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090', origin }, s)?.message).toMatch(/origin/);
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090', secFetchSite: 'cross-site' }, s)?.status).toBe(403);
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090', secFetchSite: 'same-origin' }, s)).toBeNull();
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090', secFetchSite: 'none' }, s)).toBeNull();
    // another port of localhost is the same site, not the same origin
    expect(checkRequest({ method: 'GET', host: '127.0.0.1:8090', secFetchSite: 'same-site' }, s)?.status).toBe(403);
  });

  it('needs the session token for anything but GET', () => {
    const post = { method: 'POST', host: '127.0.0.1:8090', origin: 'http://127.0.0.1:8090' };
    expect(checkRequest(post, s)?.message).toMatch(/token/);
    expect(checkRequest({ ...post, token: 'wrong' }, s)?.status).toBe(403);
    expect(checkRequest({ ...post, token: 'tok' }, s)).toBeNull();
    expect(checkRequest({ method: 'DELETE', host: '127.0.0.1:8090' }, s)?.status).toBe(403);
  });

  it('with --host, answers to that address too', () => {
    expect(checkRequest({ method: 'GET', host: '10.0.0.5:8090' }, { ...s, host: '10.0.0.5' })).toBeNull();
    expect(checkRequest({ method: 'GET', host: '10.0.0.5:8090' }, s)?.status).toBe(403);
  });
});

describe('the page’s files', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ui-static-'));

  it('are index.html, app.js, app.css and assets/ inside dist/ui only: no .., no encoded .., no dotfiles, no NUL', () => {
    expect(resolveStatic(root, '/')).toBe(path.join(root, 'index.html'));
    expect(resolveStatic(root, '/app.js')).toBe(path.join(root, 'app.js'));
    expect(resolveStatic(root, '/assets/x.css')).toBe(path.join(root, 'assets', 'x.css'));
    // tsc's output of the server sits beside the page in dist/ui: not the page's
    expect(resolveStatic(root, '/server.js')).toBeNull();
    for (const bad of [
      '/../package.json',
      '/assets/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2fetc',
      '/.git/config',
      '/a%00b',
      '/%5c..%5cx',
      '/%E0%A4%A',
    ])
      expect(resolveStatic(root, bad), bad).toBeNull();
  });

  it('carry their content types', () => {
    expect(contentTypeOf('index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('app.js')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('app.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeOf('blob')).toBe('application/octet-stream');
  });
});

describe('SSE messages', () => {
  it('are an event line and one JSON data line', () => {
    expect(sseMessage('status', { apiserver: 'up', message: 'a\nb' })).toBe(
      'event: status\ndata: {"apiserver":"up","message":"a\\nb"}\n\n',
    );
  });
});
