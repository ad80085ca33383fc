/**
 * /etc/resolv.conf as a pod's C library reads it. Two readers, because the
 * pods' programs use both: glibc (Debian-based images, the node's own tools)
 * and musl (Alpine, busybox's static builds).
 *
 *                      glibc (resolv_conf.c, res_init.c)     musl (resolvconf.c)
 *   nameserver         the first 3 (MAXNS)                   the first 3 (MAXNS)
 *   search / domain    the last such line wins; `domain`     the last such line wins, kept
 *                      is a one-domain list; no limit on     as text of at most 255 chars
 *                      the count since glibc 2.26 (6 and     (a longer line is cut there)
 *                      256 chars before)
 *   options            every line adds; ndots ≤ 15,          ndots ≤ 15, attempts ≤ 10,
 *                      attempts ≤ 5, timeout ≤ 30            timeout ≤ 60
 *   env                LOCALDOMAIN replaces the search       neither
 *                      list, RES_OPTIONS adds options
 *   no nameserver      127.0.0.1                             127.0.0.1
 *   no search list     the domain of the hostname            none
 *
 * Pure: the text (and environment, hostname) come in as arguments.
 */
export type LibcFlavor = 'glibc' | 'musl';

export interface ResolverConfig {
  flavor: LibcFlavor;
  nameservers: string[];
  /** search domains, in order, without a trailing dot ("" stands for the root) */
  search: string[];
  ndots: number;
  timeoutS: number;
  attempts: number;
  rotate: boolean;
  /** glibc's no-tld-query: a single-label name is never asked as it is */
  noTldQuery: boolean;
  /** what the library ignored, for the learner (a 4th nameserver, an unknown option, a search line cut short) */
  ignored: string[];
}

export const MAXNS = 3;
export const RES_MAXNDOTS = 15;
/** musl keeps the search line in a 256-byte buffer */
export const MUSL_SEARCH_MAX_CHARS = 255;

const LIMITS: Record<LibcFlavor, { attempts: number; timeoutS: number }> = {
  glibc: { attempts: 5, timeoutS: 30 },
  musl: { attempts: 10, timeoutS: 60 },
};

export interface ResolvConfInput {
  flavor?: LibcFlavor;
  /** the process environment (glibc reads LOCALDOMAIN and RES_OPTIONS) */
  env?: Record<string, string | undefined>;
  /** the host name: glibc's search list when the file has none */
  hostname?: string;
}

const stripDot = (d: string) => (d === '.' ? '' : d.replace(/\.$/, ''));

export function parseResolverConf(text: string, input: ResolvConfInput = {}): ResolverConfig {
  const flavor = input.flavor ?? 'glibc';
  const conf: ResolverConfig = {
    flavor,
    nameservers: [],
    search: [],
    ndots: 1,
    timeoutS: 5,
    attempts: 2,
    rotate: false,
    noTldQuery: false,
    ignored: [],
  };
  let searchSeen = false;
  const applyOptions = (words: string[]) => {
    for (const w of words) {
      const [name, value] = w.split(':', 2);
      const n = value === undefined ? NaN : Number.parseInt(value, 10);
      if (name === 'ndots' && Number.isFinite(n)) conf.ndots = Math.min(Math.max(n, 0), RES_MAXNDOTS);
      else if (name === 'timeout' && Number.isFinite(n))
        conf.timeoutS = Math.min(Math.max(n, 1), LIMITS[flavor].timeoutS);
      else if (name === 'attempts' && Number.isFinite(n))
        conf.attempts = Math.min(Math.max(n, 1), LIMITS[flavor].attempts);
      else if (name === 'rotate' && flavor === 'glibc') conf.rotate = true;
      else if (name === 'no-tld-query' && flavor === 'glibc') conf.noTldQuery = true;
      else if (!GLIBC_OTHER_OPTIONS.has(name) || flavor === 'musl') conf.ignored.push(`options ${w}`);
    }
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) {
      if (conf.nameservers.length < MAXNS) conf.nameservers.push(rest[0]);
      else conf.ignored.push(`nameserver ${rest[0]} (only the first ${MAXNS} are used)`);
    } else if (key === 'search' || key === 'domain') {
      searchSeen = true;
      if (flavor === 'musl') {
        let list = line.slice(key.length).trim();
        if (list.length > MUSL_SEARCH_MAX_CHARS) {
          conf.ignored.push(`search line past ${MUSL_SEARCH_MAX_CHARS} characters`);
          list = list.slice(0, MUSL_SEARCH_MAX_CHARS);
        }
        conf.search = list.split(/\s+/).filter(Boolean).map(stripDot);
      } else {
        conf.search = (key === 'domain' ? rest.slice(0, 1) : rest).map(stripDot);
      }
    } else if (key === 'options') applyOptions(rest);
    else conf.ignored.push(line);
  }
  if (flavor === 'glibc') {
    const local = input.env?.LOCALDOMAIN;
    if (local !== undefined) {
      conf.search = local.split(/\s+/).filter(Boolean).map(stripDot);
      searchSeen = true;
    }
    if (input.env?.RES_OPTIONS) applyOptions(input.env.RES_OPTIONS.split(/\s+/).filter(Boolean));
    if (!searchSeen && input.hostname?.includes('.'))
      conf.search = [stripDot(input.hostname.slice(input.hostname.indexOf('.') + 1))];
  }
  if (!conf.nameservers.length) conf.nameservers.push('127.0.0.1');
  return conf;
}

/** glibc options that change nothing this resolver models (not worth an "ignored" line) */
const GLIBC_OTHER_OPTIONS = new Set([
  'edns0',
  'single-request',
  'single-request-reopen',
  'use-vc',
  'trust-ad',
  'inet6',
  'debug',
  'no-check-names',
  'no-reload',
  'no-aaaa',
]);

/** One line, as `podwire trace` shows it: nameserver, search list, ndots. */
export function describeResolverConf(c: ResolverConfig): string {
  const search = c.search.length ? c.search.map((d) => d || '.').join(' ') : '(none)';
  return `nameserver ${c.nameservers.join(', ')}; search ${search}; ndots:${c.ndots} timeout:${c.timeoutS} attempts:${c.attempts}${c.rotate ? ' rotate' : ''}`;
}
