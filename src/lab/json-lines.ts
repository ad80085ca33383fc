import type { IncomingMessage } from 'node:http';

/**
 * Call `onObject` for each JSON line an agent streams (observe, trace),
 * across chunk boundaries. A line that is not JSON is skipped. Return false
 * from onObject to stop reading.
 */
export function onJsonLines(res: IncomingMessage, onObject: (o: unknown) => boolean | void): void {
  let pending = '';
  let stopped = false;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while (!stopped && (nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        continue;
      }
      if (onObject(o) === false) stopped = true;
    }
  });
}
