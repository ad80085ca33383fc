import { describe, it, expect } from 'vitest';
import { compile, ingress, ingressClass, p, req, rule, short, svc } from '../support/ingress-cluster.js';
import { effectiveHostnames, gatewayHostMatches, intersectHostname } from '../../../src/ingress/model/hosts.js';
import { replacePrefixMatch } from '../../../src/ingress/model/paths.js';

// Ingress paths and hosts as truth tables, written by hand from the
// Kubernetes docs (concepts/services-networking/ingress: "Examples" and
// "Hostname wildcards") and the Gateway API spec (PathPrefix,
// ReplacePrefixMatch, hostnames). Each row routes a real request through
// compileRoutes' table; the expected backend names the rule that must win.

const services = ['foo', 'foo-slash', 'exact', 'prefix', 'root', 'aaa', 'bbb', 'bb', 'impl'].map((n, i) =>
  svc('default', n, `10.96.0.${10 + i}`),
);
const nginx = ingressClass('nginx');

/** One Ingress with these paths on host h.test; the service that answers the request, or the 404. */
function winner(paths: [string, string, string][], path: string): string {
  const t = compile(
    nginx,
    ...services,
    ingress('default', 'i', { rules: [rule('h.test', ...paths.map(([pp, type, s]) => p(pp, type, s)))] }),
  ).table;
  const d = t.route(req(`http://h.test${path}`));
  return d.kind === 'proxy' ? d.backends[0].service.replace('default/', '') : short(d).split(' ').slice(0, 2).join(' ');
}

describe('Ingress path types: the Kubernetes docs table', () => {
  const rows: [string, [string, string, string][], string, string][] = [
    ['Prefix / matches all paths', [['/', 'Prefix', 'root']], '/anything/at/all', 'root'],
    ['Exact /foo, /foo', [['/foo', 'Exact', 'exact']], '/foo', 'exact'],
    ['Exact /foo, /bar', [['/foo', 'Exact', 'exact']], '/bar', 'error 404'],
    ['Exact /foo, /foo/', [['/foo', 'Exact', 'exact']], '/foo/', 'error 404'],
    ['Exact /foo/, /foo', [['/foo/', 'Exact', 'exact']], '/foo', 'error 404'],
    ['Prefix /foo, /foo', [['/foo', 'Prefix', 'foo']], '/foo', 'foo'],
    ['Prefix /foo, /foo/', [['/foo', 'Prefix', 'foo']], '/foo/', 'foo'],
    ['Prefix /foo/, /foo', [['/foo/', 'Prefix', 'foo-slash']], '/foo', 'foo-slash'],
    ['Prefix /foo/, /foo/', [['/foo/', 'Prefix', 'foo-slash']], '/foo/', 'foo-slash'],
    ['Prefix /aaa/bb, /aaa/bbb', [['/aaa/bb', 'Prefix', 'bb']], '/aaa/bbb', 'error 404'],
    ['Prefix /aaa/bbb, /aaa/bbb', [['/aaa/bbb', 'Prefix', 'bbb']], '/aaa/bbb', 'bbb'],
    ['Prefix /aaa/bbb/ ignores the trailing slash', [['/aaa/bbb/', 'Prefix', 'bbb']], '/aaa/bbb', 'bbb'],
    ['Prefix /aaa/bbb matches the trailing slash', [['/aaa/bbb', 'Prefix', 'bbb']], '/aaa/bbb/', 'bbb'],
    ['Prefix /aaa/bbb matches a subpath', [['/aaa/bbb', 'Prefix', 'bbb']], '/aaa/bbb/ccc', 'bbb'],
    ['Prefix /aaa/bbb does not match a string prefix', [['/aaa/bbb', 'Prefix', 'bbb']], '/aaa/bbbxyz', 'error 404'],
    [
      'Prefix /, /aaa: /aaa/ccc takes /aaa',
      [
        ['/', 'Prefix', 'root'],
        ['/aaa', 'Prefix', 'aaa'],
      ],
      '/aaa/ccc',
      'aaa',
    ],
    [
      'Prefix /, /aaa, /aaa/bbb: /aaa/bbb takes /aaa/bbb',
      [
        ['/', 'Prefix', 'root'],
        ['/aaa', 'Prefix', 'aaa'],
        ['/aaa/bbb', 'Prefix', 'bbb'],
      ],
      '/aaa/bbb',
      'bbb',
    ],
    [
      'Prefix /, /aaa, /aaa/bbb: /ccc takes /',
      [
        ['/', 'Prefix', 'root'],
        ['/aaa', 'Prefix', 'aaa'],
        ['/aaa/bbb', 'Prefix', 'bbb'],
      ],
      '/ccc',
      'root',
    ],
    ['Prefix /aaa, /ccc: no match, the default backend (none: 404)', [['/aaa', 'Prefix', 'aaa']], '/ccc', 'error 404'],
    [
      'Mixed /foo Prefix and /foo Exact: /foo prefers Exact',
      [
        ['/foo', 'Prefix', 'prefix'],
        ['/foo', 'Exact', 'exact'],
      ],
      '/foo',
      'exact',
    ],
  ];
  for (const [name, paths, path, want] of rows) it(name, () => expect(winner(paths, path)).toBe(want));

  it('order in the manifest does not matter: longest first, Exact over Prefix over ImplementationSpecific on equal length', () => {
    expect(
      winner(
        [
          ['/', 'Prefix', 'root'],
          ['/api', 'Prefix', 'aaa'],
        ],
        '/api/x',
      ),
    ).toBe('aaa');
    expect(
      winner(
        [
          ['/api', 'Prefix', 'aaa'],
          ['/', 'Prefix', 'root'],
        ],
        '/api/x',
      ),
    ).toBe('aaa');
    expect(
      winner(
        [
          ['/foo', 'Exact', 'exact'],
          ['/foo', 'Prefix', 'prefix'],
        ],
        '/foo/x',
      ),
    ).toBe('prefix');
    expect(
      winner(
        [
          ['/foo', 'ImplementationSpecific', 'impl'],
          ['/foo', 'Prefix', 'prefix'],
        ],
        '/foo/x',
      ),
    ).toBe('prefix');
  });

  it('matching is case sensitive', () => {
    expect(winner([['/Foo', 'Prefix', 'foo']], '/foo')).toBe('error 404');
    expect(winner([['/foo', 'Exact', 'exact']], '/FOO')).toBe('error 404');
  });

  it('ImplementationSpecific is ingress-nginx’s nginx prefix location: a string prefix', () => {
    expect(winner([['/foo', 'ImplementationSpecific', 'impl']], '/foobar')).toBe('impl');
    expect(winner([['/foo', 'ImplementationSpecific', 'impl']], '/foo/x')).toBe('impl');
    expect(winner([['/foo', 'ImplementationSpecific', 'impl']], '/fo')).toBe('error 404');
    // a longer string prefix beats a shorter element-wise one
    expect(
      winner(
        [
          ['/api', 'Prefix', 'aaa'],
          ['/api/v', 'ImplementationSpecific', 'impl'],
        ],
        '/api/v2',
      ),
    ).toBe('impl');
  });
});

describe('Ingress hosts', () => {
  const t = compile(
    nginx,
    ...services,
    ingress('default', 'hosts', {
      rules: [
        rule('foo.bar.com', p('/', 'Prefix', 'foo')),
        rule('*.foo.com', p('/', 'Prefix', 'aaa')),
        rule('', p('/', 'Prefix', 'root')),
      ],
    }),
  ).table;
  const to = (host: string) => {
    const d = t.route(req(`http://${host}/`));
    return d.kind === 'proxy' ? d.backends[0].service : short(d);
  };

  it('exact host; a *. wildcard covers exactly one label (the docs’ table); other hosts take the host-less rule', () => {
    expect(to('foo.bar.com')).toBe('default/foo');
    expect(to('bar.foo.com')).toBe('default/aaa'); // matches based on shared suffix
    expect(to('baz.bar.foo.com')).toBe('default/root'); // wildcard covers a single label only
    expect(to('foo.com')).toBe('default/root'); // nor none
    expect(to('elsewhere.test')).toBe('default/root');
  });

  it('without a host-less rule, an unknown host is a 404 that says which host and path', () => {
    const t2 = compile(
      nginx,
      ...services,
      ingress('default', 'one', { rules: [rule('foo.bar.com', p('/', 'Prefix', 'foo'))] }),
    ).table;
    expect(short(t2.route(req('http://other.test/x?y=1')))).toBe(
      'error 404 no Ingress rule matches host other.test path /x',
    );
  });

  it('an exact host beats a wildcard that also covers it, and a host’s server does not fall through to the host-less rules', () => {
    const t2 = compile(
      nginx,
      ...services,
      ingress('default', 'w', {
        rules: [
          rule('*.bar.com', p('/', 'Prefix', 'aaa')),
          rule('foo.bar.com', p('/x', 'Exact', 'exact')),
          rule('', p('/', 'Prefix', 'root')),
        ],
      }),
    ).table;
    expect(short(t2.route(req('http://foo.bar.com/x')))).toBe('proxy default/exact:80');
    expect(short(t2.route(req('http://foo.bar.com/y')))).toBe(
      'error 404 no Ingress rule matches host foo.bar.com path /y',
    );
  });
});

describe('Gateway API paths and hostnames (the spec’s words)', () => {
  it('ReplacePrefixMatch: the spec’s table, row by row', () => {
    const rows: [string, string, string, string][] = [
      ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
      ['/foo', '/foo', '/xyz', '/xyz'],
      ['/foo/', '/foo', '/xyz', '/xyz/'],
      ['/foo/bar', '/foo', '', '/bar'],
      ['/foo/', '/foo', '', '/'],
      ['/foo', '/foo', '', '/'],
      ['/foo/', '/foo', '/', '/'],
      ['/foo', '/foo', '/', '/'],
    ];
    for (const [path, prefix, repl, want] of rows)
      expect(replacePrefixMatch(path, prefix, repl), `${path} ${prefix} ${repl}`).toBe(want);
  });

  it('a wildcard hostname is a suffix match over any number of labels, never the bare domain', () => {
    expect(gatewayHostMatches('*.example.com', 'test.example.com')).toBe(true);
    expect(gatewayHostMatches('*.example.com', 'foo.test.example.com')).toBe(true);
    expect(gatewayHostMatches('*.example.com', 'example.com')).toBe(false);
    expect(gatewayHostMatches('*.example.com', 'test.example.net')).toBe(false);
  });

  it('listener × route hostnames: the intersection is the more specific name (the spec’s examples)', () => {
    expect(intersectHostname('test.example.com', 'test.example.com')).toBe('test.example.com');
    expect(intersectHostname('test.example.com', '*.example.com')).toBe('test.example.com');
    expect(intersectHostname('*.example.com', 'foo.test.example.com')).toBe('foo.test.example.com');
    expect(intersectHostname('*.example.com', '*.example.com')).toBe('*.example.com');
    expect(intersectHostname('*.example.com', 'example.com')).toBeUndefined();
    expect(intersectHostname('*.example.com', 'test.example.net')).toBeUndefined();
    expect(intersectHostname(undefined, 'a.test')).toBe('a.test');
    expect(effectiveHostnames('*.example.com', ['test.example.com', 'test.example.net'])).toEqual(['test.example.com']);
    expect(effectiveHostnames('a.example.com', [])).toEqual(['a.example.com']);
    expect(effectiveHostnames(undefined, [])).toEqual(['']);
  });
});
