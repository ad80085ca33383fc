/**
 * How the server and its plugins write their log: CoreDNS's levels as line
 * prefixes (`[INFO] `, `[ERROR] plugin/errors: `…) on stdout, where
 * `kubectl logs` reads them. Injected, so tests read the lines.
 */
export interface Logger {
  info(msg: string): void;
  warning(msg: string): void;
  error(msg: string): void;
}

export function lineLogger(write: (line: string) => void): Logger {
  return {
    info: (m) => write(`[INFO] ${m}`),
    warning: (m) => write(`[WARNING] ${m}`),
    error: (m) => write(`[ERROR] ${m}`),
  };
}

export const stdoutLogger = (): Logger => lineLogger((l) => void process.stdout.write(`${l}\n`));
