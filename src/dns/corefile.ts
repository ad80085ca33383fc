import { fail, zoneArg } from './corefile-args.js';
import { ONCE_PER_BLOCK, pluginOptions } from './corefile-plugins.js';
import { CorefileError, type Directive, type ServerBlock } from './types.js';

/**
 * The Corefile, read as CoreDNS's Caddyfile parser reads it (pure):
 *
 *   .:53 cluster.local:53 {          ← server block keys: [dns://]zone[:port], default port 53
 *       kubernetes cluster.local {   ← a directive: name, arguments to the end of the line,
 *           pods insecure            ←   and an optional { } block of the same shape (any depth)
 *       }
 *       cache 30  # comments run from # to the end of the line
 *   }
 *
 * Tokens are split by whitespace; "quoted tokens" may hold spaces and
 * escaped \" quotes; {$VAR} / {%VAR%} are replaced from `env` when given.
 * A file with one server block may leave out its braces. Every directive
 * carries its line. Errors (CorefileError, with the line): unbalanced
 * braces, a block without keys, an unknown plugin, and every plugin
 * argument error its pluginOptions reader can find without running.
 */
export const IMPLEMENTED_PLUGINS = [
  'errors',
  'health',
  'ready',
  'kubernetes',
  'prometheus',
  'forward',
  'cache',
  'loop',
  'reload',
  'loadbalance',
  'log',
  'rewrite',
] as const;

export interface ParseCorefileOptions {
  /** plugin names the runtime implements (default IMPLEMENTED_PLUGINS) */
  plugins?: readonly string[];
  /** environment for {$VAR} and {%VAR%}; without it they are left as written */
  env?: Record<string, string | undefined>;
}

interface Token {
  text: string;
  line: number;
  quoted: boolean;
}

const DEFAULT_PORT = 53;

/** Caddy's lexer: whitespace-separated tokens, "quotes" with \" escapes, # comments to the end of the line. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '"') {
      const start = line;
      let val = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new CorefileError('unterminated quoted string', start);
        const c = text[i++];
        if (c === '"') break;
        if (c === '\\' && text[i] === '"') {
          val += '"';
          i++;
          continue;
        }
        if (c === '\n') line++;
        val += c;
      }
      tokens.push({ text: val, line: start, quoted: true });
    } else {
      let val = '';
      while (i < text.length && !/\s/.test(text[i]) && text[i] !== '#') val += text[i++];
      tokens.push({ text: val, line, quoted: false });
    }
  }
  return tokens;
}

const isOpen = (t: Token | undefined) => !!t && !t.quoted && t.text === '{';
const isClose = (t: Token | undefined) => !!t && !t.quoted && t.text === '}';

function replaceEnv(s: string, env: Record<string, string | undefined>): string {
  return s.replace(/\{\$([A-Za-z_][A-Za-z0-9_]*)\}|\{%([A-Za-z_][A-Za-z0-9_]*)%\}/g, (_, a, b) => env[a ?? b] ?? '');
}

export function parseCorefile(text: string, options: ParseCorefileOptions | readonly string[] = {}): ServerBlock[] {
  const opts: ParseCorefileOptions = Array.isArray(options)
    ? { plugins: options as readonly string[] }
    : (options as ParseCorefileOptions);
  const known = new Set(opts.plugins ?? IMPLEMENTED_PLUGINS);
  let tokens = tokenize(text);
  if (opts.env) tokens = tokens.map((t) => ({ ...t, text: replaceEnv(t.text, opts.env!) }));
  let i = 0;

  /** Directives up to the `}` that closes the block opened at `openLine` (null: up to the end of the file). */
  const directives = (openLine: number | null): Directive[] => {
    const out: Directive[] = [];
    while (i < tokens.length) {
      const t = tokens[i];
      if (isClose(t)) {
        if (openLine === null) fail(t, "unexpected '}': no block is open");
        i++;
        return out;
      }
      if (isOpen(t)) fail(t, "unexpected '{': a block must open on the line of its directive");
      const d: Directive = { name: t.text, args: [], block: [], line: t.line };
      i++;
      while (i < tokens.length && tokens[i].line === d.line && !isOpen(tokens[i]) && !isClose(tokens[i]))
        d.args.push(tokens[i++].text);
      if (isOpen(tokens[i]) && tokens[i].line === d.line) {
        i++;
        d.block = directives(d.line);
      }
      out.push(d);
    }
    if (openLine !== null) fail({ line: openLine }, "unbalanced braces: the '{' opened here is never closed");
    return out;
  };

  const blocks: ServerBlock[] = [];
  const served = new Map<string, number>();
  while (i < tokens.length) {
    const first = tokens[i];
    if (isClose(first)) fail(first, "unexpected '}': no block is open");
    // keys: the tokens of this line, and of following lines after a trailing comma
    const keys: Token[] = [];
    let more = false;
    let lastLine = first.line;
    while (i < tokens.length && !isOpen(tokens[i]) && (more || tokens[i].line === lastLine)) {
      const t = tokens[i++];
      lastLine = t.line;
      more = t.text.endsWith(',');
      const k = more ? t.text.slice(0, -1) : t.text;
      if (k) keys.push({ ...t, text: k });
    }
    if (more) fail(tokens[i] ?? first, 'expected another server block key after the comma');
    if (!keys.length) fail(first, 'a server block needs at least one key (zone[:port]) before {');
    let dirs: Directive[];
    if (isOpen(tokens[i])) {
      i++;
      dirs = directives(first.line);
    } else if (blocks.length === 0) {
      dirs = directives(null); // a single server block may leave out its braces
    } else {
      fail(tokens[i] ?? first, "expected '{' after the server block keys");
    }
    const block = serverBlock(keys, dirs, first.line);
    for (const z of block.zones) {
      const where = served.get(`${z}:${block.port}`);
      if (where !== undefined)
        fail(first, `zone ${z} on port ${block.port} is already served by the server block at line ${where}`);
      served.set(`${z}:${block.port}`, first.line);
    }
    validate(block, known);
    blocks.push(block);
  }
  return blocks;
}

/** Keys → zones and one port: `[dns://]zone[:port]`, a CIDR zone becomes reverse zones. */
function serverBlock(keys: Token[], directives: Directive[], line: number): ServerBlock {
  const zones: string[] = [];
  const ports = new Set<number>();
  for (const k of keys) {
    let s = k.text;
    const scheme = /^([a-z0-9+.-]+):\/\//i.exec(s);
    if (scheme) {
      if (scheme[1].toLowerCase() !== 'dns')
        fail(k, `server block key ${k.text}: transport ${scheme[1]}:// is not supported (only dns://)`);
      s = s.slice(scheme[0].length);
    }
    let port = DEFAULT_PORT;
    const colon = s.lastIndexOf(':');
    if (colon === s.length - 1 && colon >= 0)
      fail(k, `server block key ${k.text}: expecting a port after the last colon`);
    if (colon >= 0 && /^[0-9]+$/.test(s.slice(colon + 1))) {
      port = Number(s.slice(colon + 1));
      s = s.slice(0, colon);
      if (port < 1 || port > 65535) fail(k, `server block key ${k.text}: port out of range`);
    }
    for (const z of zoneArg(k, `server block key ${k.text}`, s === '' ? '.' : s)) if (!zones.includes(z)) zones.push(z);
    ports.add(port);
  }
  if (ports.size > 1) fail(keys[0], `the keys of one server block must share a port, got ${[...ports].join(', ')}`);
  return { zones, port: [...ports][0], directives, line };
}

function validate(block: ServerBlock, known: Set<string>): void {
  const seen = new Set<string>();
  for (const d of block.directives) {
    if (d.name === 'import') fail(d, 'import is not supported (write the directives in place)');
    if (!known.has(d.name)) fail(d, `unknown plugin '${d.name}'`);
    if (ONCE_PER_BLOCK.has(d.name) && seen.has(d.name))
      fail(d, `${d.name}: this plugin can only be used once per server block`);
    seen.add(d.name);
    const read = (pluginOptions as Record<string, (d: Directive, b: ServerBlock) => unknown>)[d.name];
    read?.(d, block);
  }
}
