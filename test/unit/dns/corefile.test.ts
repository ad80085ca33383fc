import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_COREFILE } from '../../../src/dns/addon.js';
import { parseDuration } from '../../../src/dns/corefile-args.js';
import { pluginOptions } from '../../../src/dns/corefile-plugins.js';
import { COMMON_LOG_FORMAT } from '../../../src/dns/corefile-rewrite-log.js';
import { IMPLEMENTED_PLUGINS, parseCorefile } from '../../../src/dns/corefile.js';
import { CorefileError, type Directive, type ServerBlock } from '../../../src/dns/types.js';

/** The Corefile as the article prints it (/work/shared/seeds/000_…txt: "CoreDNS uses a Corefile stored in a ConfigMap"). */
const ARTICLE_COREFILE = `.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

const d = (name: string, args: string[], line: number, block: Directive[] = []): Directive => ({
  name,
  args,
  block,
  line,
});
const find = (b: ServerBlock, name: string) => b.directives.find((x) => x.name === name)!;

/** The CorefileError `text` raises. */
function error(text: string, plugins?: readonly string[]): CorefileError {
  try {
    parseCorefile(text, plugins ? { plugins } : {});
  } catch (e) {
    expect(e).toBeInstanceOf(CorefileError);
    return e as CorefileError;
  }
  throw new Error(`no error for:\n${text}`);
}

describe('parseCorefile: the article Corefile', () => {
  const blocks = parseCorefile(ARTICLE_COREFILE);

  it('reads one server block for the root zone on port 53, directives in order with their lines', () => {
    expect(blocks).toEqual([
      {
        zones: ['.'],
        port: 53,
        line: 1,
        directives: [
          d('errors', [], 2),
          d('health', [], 3, [d('lameduck', ['5s'], 4)]),
          d('ready', [], 6),
          d('kubernetes', ['cluster.local', 'in-addr.arpa', 'ip6.arpa'], 7, [
            d('pods', ['insecure'], 8),
            d('fallthrough', ['in-addr.arpa', 'ip6.arpa'], 9),
            d('ttl', ['30'], 10),
          ]),
          d('prometheus', [':9153'], 12),
          d('forward', ['.', '/etc/resolv.conf'], 13, [d('max_concurrent', ['1000'], 14)]),
          d('cache', ['30'], 16),
          d('loop', [], 17),
          d('reload', [], 18),
          d('loadbalance', [], 19),
        ],
      },
    ]);
  });

  it('is the Corefile the cluster DNS add-on installs', () => {
    expect(parseCorefile(DEFAULT_COREFILE)).toEqual(blocks);
  });

  it('gives typed plugin options with CoreDNS defaults', () => {
    const [b] = blocks;
    expect(pluginOptions.kubernetes(find(b, 'kubernetes'), b)).toEqual({
      zones: ['cluster.local.', 'in-addr.arpa.', 'ip6.arpa.'],
      pods: 'insecure',
      fallthrough: ['in-addr.arpa.', 'ip6.arpa.'],
      ttl: 30,
      endpointPodNames: false,
      noEndpoints: false,
      namespaces: [],
      ignoreEmptyService: false,
    });
    expect(pluginOptions.health(find(b, 'health'))).toEqual({ addr: ':8080', lameduckMs: 5000 });
    expect(pluginOptions.ready(find(b, 'ready'))).toEqual({ addr: ':8181' });
    expect(pluginOptions.prometheus(find(b, 'prometheus'))).toEqual({ addr: ':9153' });
    expect(pluginOptions.forward(find(b, 'forward'))).toEqual({
      from: '.',
      to: [{ kind: 'file', path: '/etc/resolv.conf' }],
      except: [],
      policy: 'random',
      maxConcurrent: 1000,
      maxFails: 2,
      expireMs: 10_000,
      healthCheckMs: 500,
      forceTcp: false,
      preferUdp: false,
    });
    expect(pluginOptions.cache(find(b, 'cache'), b)).toEqual({
      zones: ['.'],
      success: { capacity: 10000, ttl: 30, minTtl: 5 },
      denial: { capacity: 10000, ttl: 30, minTtl: 5 },
      prefetch: { amount: 0, durationMs: 60_000, percentage: 10 },
      serveStaleMs: 0,
      keepTtl: false,
    });
    expect(pluginOptions.errors(find(b, 'errors'))).toEqual({ stacktrace: false });
    expect(pluginOptions.loop(find(b, 'loop'))).toEqual({});
    expect(pluginOptions.reload(find(b, 'reload'))).toEqual({ intervalMs: 30_000, jitterMs: 15_000 });
    expect(pluginOptions.loadbalance(find(b, 'loadbalance'))).toEqual({ policy: 'round_robin' });
  });
});

describe('parseCorefile: syntax', () => {
  it('reads several blocks, several keys per block, ports, schemes and CIDR keys', () => {
    const blocks = parseCorefile(`cluster.local:53 example.com {
  errors
}
dns://Example.ORG:1053 {
  log
}
10.96.0.0/12 {
  loop
}
`);
    expect(blocks.map((b) => [b.zones, b.port, b.line])).toEqual([
      [['cluster.local.', 'example.com.'], 53, 1],
      [['example.org.'], 1053, 4],
      [Array.from({ length: 16 }, (_, i) => `${96 + i}.10.in-addr.arpa.`), 53, 7],
    ]);
  });

  it('continues keys after a trailing comma, and takes a { on the next line after the keys', () => {
    const [b] = parseCorefile('example.org,\n  example.net example.com\n{\n  errors\n}\n');
    expect(b.zones).toEqual(['example.org.', 'example.net.', 'example.com.']);
    expect(b.directives).toEqual([d('errors', [], 4)]);
  });

  it('reads a single server block without braces', () => {
    expect(parseCorefile('.:5353\nerrors\ncache 10 cluster.local\n')).toEqual([
      { zones: ['.'], port: 5353, line: 1, directives: [d('errors', [], 2), d('cache', ['10', 'cluster.local'], 3)] },
    ]);
  });

  it('reads blocks opened and closed on one line, nested deeper than one level', () => {
    const [b] = parseCorefile(
      '. {\n  health { lameduck 5s }\n  rewrite stop {\n    name regex (.*)\\.example\\.org {1}.default.svc.cluster.local\n    answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.org\n  }\n}\n',
    );
    expect(b.directives[0]).toEqual(d('health', [], 2, [d('lameduck', ['5s'], 2)]));
    expect(b.directives[1].block.map((x) => [x.name, x.line])).toEqual([
      ['name', 4],
      ['answer', 5],
    ]);
  });

  it('keeps quoted arguments whole, with escaped quotes, and skips comments', () => {
    const [b] = parseCorefile(`# the cluster's DNS
.:53 { # root
    log . "{remote} asked \\"{name}\\"" # a custom format
    errors#no space before the comment
    # cache 30
}`);
    expect(b.directives).toEqual([d('log', ['.', '{remote} asked "{name}"'], 3), d('errors', [], 4)]);
  });

  it('replaces {$VAR} and {%VAR%} from the environment it is given', () => {
    const [b] = parseCorefile('.:{$PORT} {\n  forward . {%UPSTREAM%}\n}', {
      env: { PORT: '1053', UPSTREAM: '8.8.8.8' },
    });
    expect(b.port).toBe(1053);
    expect(pluginOptions.forward(b.directives[0]).to).toEqual([{ kind: 'server', host: '8.8.8.8', port: 53 }]);
  });

  it('accepts the plugin list as an array', () => {
    expect(() => parseCorefile('. {\n  errors\n}', ['errors'])).not.toThrow();
    expect(error('. {\n  cache\n}', ['errors']).message).toBe("Corefile:2: unknown plugin 'cache'");
  });
});

describe('pluginOptions', () => {
  const one = (text: string) => parseCorefile(text)[0];

  it('kubernetes: zones from the server block, every option', () => {
    const b = one(
      'cluster.local:53 {\n  kubernetes {\n    pods verified\n    fallthrough\n    endpoint_pod_names\n    noendpoints\n    namespaces default kube-system\n    ignore empty_service\n  }\n}',
    );
    expect(pluginOptions.kubernetes(b.directives[0], b)).toEqual({
      zones: ['cluster.local.'],
      pods: 'verified',
      fallthrough: ['.'],
      ttl: 5,
      endpointPodNames: true,
      noEndpoints: true,
      namespaces: ['default', 'kube-system'],
      ignoreEmptyService: true,
    });
    expect(pluginOptions.kubernetes(one('. {\n kubernetes cluster.local 10.96.0.0/16\n}').directives[0]).zones).toEqual(
      ['cluster.local.', '96.10.in-addr.arpa.'],
    );
  });

  it('cache: success/denial capacities and TTLs, prefetch, serve_stale', () => {
    const b = one(
      '. {\n  cache 300 cluster.local {\n    success 5000 60 10\n    denial 2500\n    prefetch 10 1m 20%\n    serve_stale 30s\n    keepttl\n  }\n}',
    );
    expect(pluginOptions.cache(b.directives[0], b)).toEqual({
      zones: ['cluster.local.'],
      success: { capacity: 5000, ttl: 60, minTtl: 10 },
      denial: { capacity: 2500, ttl: 300, minTtl: 5 },
      prefetch: { amount: 10, durationMs: 60_000, percentage: 20 },
      serveStaleMs: 30_000,
      keepTtl: true,
    });
    expect(
      pluginOptions.cache(one('example.org {\n cache\n}').directives[0], one('example.org {\n cache\n}')).zones,
    ).toEqual(['example.org.']);
  });

  it('forward: addresses, ports, IPv6, dns://, files, properties', () => {
    const b = one(
      '. {\n  forward example.org 1.1.1.1 8.8.8.8:5353 dns://9.9.9.9 [2001:db8::1]:53 2001:db8::2 ./resolv.conf {\n    except internal.example.org\n    policy sequential\n    max_fails 3\n    expire 20s\n    health_check 1s\n    force_tcp\n  }\n}',
    );
    expect(pluginOptions.forward(b.directives[0])).toEqual({
      from: 'example.org.',
      to: [
        { kind: 'server', host: '1.1.1.1', port: 53 },
        { kind: 'server', host: '8.8.8.8', port: 5353 },
        { kind: 'server', host: '9.9.9.9', port: 53 },
        { kind: 'server', host: '2001:db8::1', port: 53 },
        { kind: 'server', host: '2001:db8::2', port: 53 },
        { kind: 'file', path: './resolv.conf' },
      ],
      except: ['internal.example.org.'],
      policy: 'sequential',
      maxConcurrent: 0,
      maxFails: 3,
      expireMs: 20_000,
      healthCheckMs: 1000,
      forceTcp: true,
      preferUdp: false,
    });
  });

  it('health, ready, prometheus: addresses', () => {
    const b = one('. {\n  health localhost:8091\n  ready 0.0.0.0:8282\n  prometheus\n}');
    expect(pluginOptions.health(b.directives[0])).toEqual({ addr: 'localhost:8091', lameduckMs: 0 });
    expect(pluginOptions.ready(b.directives[1])).toEqual({ addr: '0.0.0.0:8282' });
    expect(pluginOptions.prometheus(b.directives[2])).toEqual({ addr: 'localhost:9153' });
  });

  it('log: name scopes, formats, classes', () => {
    const b = one(
      '. {\n  log\n  log cluster.local example.org {combined}\n  log . "{name} {rcode}" {\n    class denial error\n  }\n}',
    );
    expect(pluginOptions.log(b.directives[0])).toEqual({
      rules: [{ nameScope: '.', format: COMMON_LOG_FORMAT }],
      classes: ['all'],
    });
    expect(pluginOptions.log(b.directives[1])).toEqual({
      rules: [
        { nameScope: 'cluster.local.', format: `${COMMON_LOG_FORMAT} "{>opcode}"` },
        { nameScope: 'example.org.', format: `${COMMON_LOG_FORMAT} "{>opcode}"` },
      ],
      classes: ['all'],
    });
    expect(pluginOptions.log(b.directives[2])).toEqual({
      rules: [{ nameScope: '.', format: '{name} {rcode}' }],
      classes: ['denial', 'error'],
    });
  });

  it('rewrite: name rules of every match type, answer auto / name / value, stop and continue', () => {
    const b = one(`. {
  rewrite name Foo.Example.com bar.default.svc.cluster.local
  rewrite name exact foo.example.com bar.default.svc.cluster.local
  rewrite continue name prefix api. api-v2.
  rewrite name suffix .corp.example.com .svc.cluster.local answer auto
  rewrite name substring example.com cluster.local
  rewrite stop {
    name regex (.*)\\.example\\.org {1}.default.svc.cluster.local
    answer name (.*)\\.default\\.svc\\.cluster\\.local {1}.example.org
    answer value (.*)\\.default\\.svc\\.cluster\\.local {1}.example.org
  }
  rewrite stop type ANY HINFO
}`);
    const rules = b.directives.map((x) => pluginOptions.rewrite(x));
    const name = { type: 'name', mode: 'stop', answerAuto: false, answerName: [], answerValue: [] };
    expect(rules).toEqual([
      { ...name, match: 'exact', from: 'foo.example.com.', to: 'bar.default.svc.cluster.local.', answerAuto: true },
      { ...name, match: 'exact', from: 'foo.example.com.', to: 'bar.default.svc.cluster.local.', answerAuto: true },
      { ...name, mode: 'continue', match: 'prefix', from: 'api.', to: 'api-v2.' },
      { ...name, match: 'suffix', from: '.corp.example.com.', to: '.svc.cluster.local.', answerAuto: true },
      { ...name, match: 'substring', from: 'example.com.', to: 'cluster.local.' },
      {
        ...name,
        match: 'regex',
        from: '(.*)\\.example\\.org',
        to: '{1}.default.svc.cluster.local.',
        answerName: [{ from: '(.*)\\.default\\.svc\\.cluster\\.local', to: '{1}.example.org.' }],
        answerValue: [{ from: '(.*)\\.default\\.svc\\.cluster\\.local', to: '{1}.example.org.' }],
      },
      { type: 'type', mode: 'stop', args: ['ANY', 'HINFO'] },
    ]);
  });

  it('parses Go durations', () => {
    expect([
      parseDuration('5s'),
      parseDuration('1m30s'),
      parseDuration('1.5h'),
      parseDuration('300ms'),
      parseDuration('0'),
      parseDuration('5'),
      parseDuration('s'),
    ]).toEqual([5000, 90_000, 5_400_000, 300, 0, null, null]);
  });
});

describe('parseCorefile: errors name the line', () => {
  const cases: [string, string, number, string][] = [
    [
      'unbalanced: a block never closed',
      '.:53 {\n  errors\n  kubernetes cluster.local {\n    pods insecure\n}\n',
      1,
      "unbalanced braces: the '{' opened here is never closed",
    ],
    ['unbalanced: a } too many', '.:53 {\n  errors\n}\n}\n', 4, "unexpected '}': no block is open"],
    [
      'a { on its own line',
      '.:53 {\n  forward . 8.8.8.8\n  {\n    policy sequential\n  }\n}',
      3,
      "unexpected '{': a block must open on the line of its directive",
    ],
    ['a block without keys', '{\n  errors\n}\n', 1, 'a server block needs at least one key (zone[:port]) before {'],
    [
      'a trailing comma with no key after it',
      'example.org, {\n}\n',
      1,
      'expected another server block key after the comma',
    ],
    [
      'a second block without braces',
      '.:53 {\n}\nexample.org\nerrors\n',
      4,
      "expected '{' after the server block keys",
    ],
    ['an unknown plugin', '.:53 {\n  errors\n  hosts /etc/hosts\n}\n', 3, "unknown plugin 'hosts'"],
    ['import', '.:53 {\n  import common\n}\n', 2, 'import is not supported (write the directives in place)'],
    ['an unterminated quote', '.:53 {\n  log . "{name}\n}\n', 2, 'unterminated quoted string'],
    [
      'keys on different ports',
      'a.org:53 b.org:54 {\n}\n',
      1,
      'the keys of one server block must share a port, got 53, 54',
    ],
    [
      'a zone served twice',
      '.:53 {\n}\n.:53 {\n}\n',
      3,
      'zone . on port 53 is already served by the server block at line 1',
    ],
    [
      'a transport podwire does not serve',
      'tls://.:853 {\n}\n',
      1,
      'server block key tls://.:853: transport tls:// is not supported (only dns://)',
    ],
    ['a bad key', 'exa mple..org {\n}\n', 1, "server block key mple..org: not a valid zone: 'mple..org'"],
    [
      'a plugin twice',
      '.:53 {\n  cache 30\n  cache 60\n}\n',
      3,
      'cache: this plugin can only be used once per server block',
    ],
    [
      'cache with a non-number TTL',
      '.:53 {\n  cache 30s\n}\n',
      2,
      "cache: TTL (seconds) must be a whole number, got '30s'",
    ],
    ['cache with a zero TTL', '.:53 {\n  cache 0\n}\n', 2, 'cache: cache TTL can not be zero or negative: 0'],
    [
      'cache with a bad capacity',
      '.:53 {\n  cache {\n    success lots\n  }\n}\n',
      3,
      "cache: success capacity must be a whole number, got 'lots'",
    ],
    ['cache with an unknown property', '.:53 {\n  cache {\n    size 10\n  }\n}\n', 3, "cache: unknown property 'size'"],
    [
      'forward without a destination',
      '.:53 {\n  forward .\n}\n',
      2,
      "forward: needs FROM and at least one TO (e.g. forward . /etc/resolv.conf), got '.'",
    ],
    [
      'forward to a name',
      '.:53 {\n  forward . dns.google\n}\n',
      2,
      "forward: not an IP address, ip:port or file: 'dns.google'",
    ],
    [
      'forward over TLS',
      '.:53 {\n  forward . tls://1.1.1.1\n}\n',
      2,
      "forward: 'tls' is not supported as a destination protocol (only dns://): tls://1.1.1.1",
    ],
    [
      'forward with a bad policy',
      '.:53 {\n  forward . 8.8.8.8 {\n    policy fastest\n  }\n}\n',
      3,
      "forward: unknown policy 'fastest'",
    ],
    [
      'forward with a negative max_concurrent',
      '.:53 {\n  forward . 8.8.8.8 {\n    max_concurrent -1\n  }\n}\n',
      3,
      "forward: max_concurrent can't be negative: -1",
    ],
    [
      'kubernetes: an unknown option',
      '.:53 {\n  kubernetes cluster.local {\n    pods insecure\n    podz verified\n  }\n}\n',
      4,
      "kubernetes: unknown property 'podz'",
    ],
    [
      'kubernetes: pods not disabled/insecure/verified',
      '.:53 {\n  kubernetes cluster.local {\n    pods secure\n  }\n}\n',
      3,
      'kubernetes: wrong value for pods: secure, must be one of: disabled, verified, insecure',
    ],
    [
      'kubernetes: pods without a value',
      '.:53 {\n  kubernetes cluster.local {\n    pods\n  }\n}\n',
      3,
      "kubernetes: 'pods' takes 1 argument, got 0",
    ],
    [
      'kubernetes: ttl above 3600',
      '.:53 {\n  kubernetes cluster.local {\n    ttl 3601\n  }\n}\n',
      3,
      'kubernetes: ttl must be in range [0, 3600]: 3601',
    ],
    [
      'kubernetes: ttl below 0',
      '.:53 {\n  kubernetes cluster.local {\n    ttl -1\n  }\n}\n',
      3,
      'kubernetes: ttl must be in range [0, 3600]: -1',
    ],
    [
      'kubernetes: ttl not a number',
      '.:53 {\n  kubernetes cluster.local {\n    ttl 30s\n  }\n}\n',
      3,
      "kubernetes: ttl must be a whole number, got '30s'",
    ],
    [
      'kubernetes: only reverse zones',
      '.:53 {\n  kubernetes in-addr.arpa\n}\n',
      2,
      'kubernetes: non-reverse zone name must be used',
    ],
    [
      'kubernetes: an option podwire does not implement',
      '.:53 {\n  kubernetes cluster.local {\n    zonal\n  }\n}\n',
      3,
      "kubernetes: 'zonal' is not supported by podwire",
    ],
    [
      'kubernetes: endpoint_pod_names with an argument',
      '.:53 {\n  kubernetes cluster.local {\n    endpoint_pod_names yes\n  }\n}\n',
      3,
      "kubernetes: 'endpoint_pod_names' takes no arguments, got 'yes'",
    ],
    [
      'health: a bad lameduck',
      '.:53 {\n  health {\n    lameduck soon\n  }\n}\n',
      3,
      "health: lameduck: not a duration: 'soon' (e.g. 5s, 1m30s)",
    ],
    [
      'health: an address without a port',
      '.:53 {\n  health localhost\n}\n',
      2,
      "health: address must be host:port (e.g. :8080), got 'localhost'",
    ],
    ['ready: an unknown property', '.:53 {\n  ready {\n    when now\n  }\n}\n', 3, "ready: unknown property 'when'"],
    [
      'prometheus: two addresses',
      '.:53 {\n  prometheus :9153 :9154\n}\n',
      2,
      "prometheus: 'prometheus' takes 0 to 1 arguments, got 2",
    ],
    ['errors: a log file', '.:53 {\n  errors /var/log/errors\n}\n', 2, 'errors: invalid log file: /var/log/errors'],
    ['loop: an argument', '.:53 {\n  loop 3\n}\n', 2, "loop: 'loop' takes no arguments, got '3'"],
    ['reload: too short', '.:53 {\n  reload 1s\n}\n', 2, 'reload: interval value must be greater or equal to 2s'],
    [
      'loadbalance: weighted',
      '.:53 {\n  loadbalance weighted /etc/weights\n}\n',
      2,
      "loadbalance: 'loadbalance' takes 0 to 1 arguments, got 2",
    ],
    [
      'log: an unknown class',
      '.:53 {\n  log {\n    class denials\n  }\n}\n',
      3,
      "log: invalid class 'denials' (all, success, denial, error)",
    ],
    [
      'rewrite: too few arguments',
      '.:53 {\n  rewrite name foo.example.com\n}\n',
      2,
      "rewrite: too few arguments for a name rule: 'foo.example.com'",
    ],
    [
      'rewrite: an unknown match type',
      '.:53 {\n  rewrite name fuzzy a b\n}\n',
      2,
      'rewrite: name rule supports only exact, prefix, suffix, substring, and regex name matching, received: fuzzy',
    ],
    [
      'rewrite: a bad regex',
      '.:53 {\n  rewrite name regex (foo bar\n}\n',
      2,
      'rewrite: name: invalid regex matching pattern: (foo',
    ],
    [
      'rewrite: more groups used than captured',
      '.:53 {\n  rewrite name regex foo\\.(.*) {2}.bar\n}\n',
      2,
      'rewrite: name: the rewrite regex pattern ({2}.bar) uses more subexpressions than its corresponding matching regex pattern (foo\\.(.*))',
    ],
    [
      'rewrite: an answer rule first',
      '.:53 {\n  rewrite answer name a b\n}\n',
      2,
      'rewrite: response rewrites must begin with a name rule',
    ],
    ['rewrite: an unknown rule type', '.:53 {\n  rewrite label a b\n}\n', 2, "rewrite: invalid rule type 'label'"],
    [
      'rewrite: a bad answer rule',
      '.:53 {\n  rewrite name suffix .a. .b. answer reverse\n}\n',
      2,
      "rewrite: invalid type 'reverse' for answer rule for suffix rule",
    ],
    [
      'rewrite: answer auto with answer name',
      '.:53 {\n  rewrite name prefix a. b. answer auto answer name (.*) {1}\n}\n',
      2,
      'rewrite: auto name answer rule cannot be combined with explicit name answer rules',
    ],
  ];

  it.each(cases)('%s', (_, text, line, message) => {
    const e = error(text);
    expect(e.line).toBe(line);
    expect(e.code).toBe('ERR_COREFILE');
    expect(e.message).toBe(`Corefile:${line}: ${message}`);
  });

  it('never throws anything but a CorefileError', () => {
    const piece = fc.constantFrom(
      '.:53',
      '{',
      '}',
      '\n',
      ' ',
      'errors',
      'cache',
      '30',
      'kubernetes',
      'cluster.local',
      'pods',
      'insecure',
      'ttl',
      'forward',
      '.',
      '8.8.8.8',
      '#',
      '"',
      'rewrite',
      'name',
      'regex',
      '(',
      'log',
      'health',
      'lameduck',
      '5s',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(piece, { maxLength: 30 }).map((p) => p.join(' ')),
        ),
        (text) => {
          try {
            parseCorefile(text);
          } catch (e) {
            expect(e).toBeInstanceOf(CorefileError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('implements the plugins the runtime names', () => {
    expect([...IMPLEMENTED_PLUGINS].sort()).toEqual(Object.keys(pluginOptions).sort());
  });
});
