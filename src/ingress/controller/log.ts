/**
 * The controller's own log lines, klog-formatted as ingress-nginx's are
 * (`I1207 10:04:05.123456       1 controller.go] message`), on stdout
 * between the access log lines: `kubectl logs` of a controller pod shows
 * both, as with the real controller. Pure formatting; the clock is injected.
 */
export type Severity = 'I' | 'W' | 'E';

const p = (n: number, w = 2) => String(n).padStart(w, '0');

export function klogLine(sev: Severity, source: string, msg: string, now: Date, pid = process.pid): string {
  const head = `${sev}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())} ${p(now.getUTCHours())}:${p(now.getUTCMinutes())}:${p(now.getUTCSeconds())}.${p(now.getUTCMilliseconds() * 1000, 6)}`;
  return `${head} ${String(pid).padStart(7)} ${source}] ${msg}`;
}

export interface Logger {
  info(msg: string, source?: string): void;
  warning(msg: string, source?: string): void;
  error(msg: string, source?: string): void;
}

export function klogger(out: (line: string) => void, now: () => Date = () => new Date()): Logger {
  return {
    info: (m, s = 'controller.go') => out(klogLine('I', s, m, now())),
    warning: (m, s = 'controller.go') => out(klogLine('W', s, m, now())),
    error: (m, s = 'controller.go') => out(klogLine('E', s, m, now())),
  };
}

/** The banner ingress-nginx prints first, with podwire's facts. */
export function banner(release: string): string[] {
  return [
    '-------------------------------------------------------------------------------',
    'NGINX Ingress controller',
    `  Release:       ${release} (podwire)`,
    '  Build:         podwire',
    '  Repository:    https://github.com/kubernetes/ingress-nginx',
    `  nginx version: none: podwire's proxy on Node.js ${process.version}`,
    '',
    '-------------------------------------------------------------------------------',
    '',
  ];
}
