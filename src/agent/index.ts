/**
 * The agent's public entry: run it (runAgent with an agentConfig), and talk
 * to a running one over its control socket (agentSocketPath, callAgent).
 */
export { runAgent, agentSocketPath, type Log } from './agent.js';
export {
  agentConfig,
  AgentConfigError,
  DEFAULTS as AGENT_DEFAULTS,
  type AgentConfig,
  type NodeConfig,
} from './config.js';
export { callAgent, type Route } from './control-server.js';
export { PodManager, PodError, apiPodKey, type PodRecord } from './pods.js';
export type { PolicyStatus } from './policy-watch.js';
