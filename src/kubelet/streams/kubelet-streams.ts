import type { Kubelet } from '../kubelet.js';
import type { StreamDeps } from './server.js';

/**
 * What the agent's :10250 streams enter, from its kubelet: exec's target
 * container (its process and environment), attach's console. Hooks for
 * port-forward and SPDY are filled in by their modules (streamHooks).
 */
export const streamHooks: Pick<StreamDeps, 'portForward' | 'spdy'> = {};

export function kubeletStreams(kubelet: Kubelet, log: (m: string) => void): StreamDeps {
  return {
    exec: (ns, pod, container) => {
      const r = kubelet.execTarget(`${ns}/${pod}`, container);
      return r as ReturnType<StreamDeps['exec']>;
    },
    get portForward() {
      return streamHooks.portForward;
    },
    get spdy() {
      return streamHooks.spdy;
    },
    log: (m) => log(`kubelet streams: ${m}`),
  };
}
