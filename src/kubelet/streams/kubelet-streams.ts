import fs from 'node:fs';
import type { Kubelet } from '../kubelet.js';
import { consoleSocket } from './console.js';
import type { StreamDeps } from './server.js';

/**
 * What the agent's :10250 streams enter, from its kubelet: exec's target
 * container (its process and environment), attach's console. The hook for
 * port-forward is filled in by its module (streamHooks).
 */
export const streamHooks: Pick<StreamDeps, 'portForward'> = {};

export function kubeletStreams(kubelet: Kubelet, log: (m: string) => void): StreamDeps {
  return {
    exec: (ns, pod, container) => {
      const r = kubelet.execTarget(`${ns}/${pod}`, container);
      return r as ReturnType<StreamDeps['exec']>;
    },
    console: (ns, pod, container) => {
      const r = kubelet.execTarget(`${ns}/${pod}`, container);
      if ('error' in r.body) return { status: r.status, body: r.body };
      const uid = kubelet.podFor(`${ns}/${pod}`)?.metadata.uid;
      const socket = uid ? consoleSocket(uid, container) : null;
      if (!socket || !fs.existsSync(socket)) {
        const spec = kubelet
          .podFor(`${ns}/${pod}`)
          ?.spec?.containers?.find((c: { name: string }) => c.name === container) as
          { stdin?: boolean; tty?: boolean } | undefined;
        return {
          status: 400,
          body: {
            error:
              spec?.stdin || spec?.tty
                ? `container ${container} of pod ${pod} is not running: its console is gone`
                : `container ${container} of pod ${pod} has no console to attach to: its spec asks for neither stdin nor tty`,
          },
        };
      }
      return { status: 200, body: { socket } };
    },
    get portForward() {
      return streamHooks.portForward;
    },
    log: (m) => log(`kubelet streams: ${m}`),
  };
}
