export { restartApiServer } from './lab.js';
export {
  labUp,
  labDown,
  labStatus,
  restartAgent,
  readLabState,
  isOurAgent,
  CLI_ENTRY,
  type LabState,
  type NodeStatus,
} from './lab.js';
export {
  planLab,
  topologyCommands,
  outsideCommands,
  labMachines,
  checkOutsideFits,
  peersDocument,
  LAB_DEFAULTS,
  type LabPlan,
  type LabNode,
  type LabMachine,
  type LabOutside,
} from './plan.js';
export { waitFor } from './wait.js';
export { labPods, addPod, deletePod, findPod, podExecEntry, execCommand, type ExecEntry } from './pods.js';
export { SCENARIOS, breakLab, fixLab, brokenNow, findScenario, scenarioHelpLines, type Scenario } from './faults.js';
export { observe, type ObserveOptions } from './observe-client.js';
export { captureDrops, captureNat, captureInNamespace } from './capture-client.js';
export {
  controllerPods,
  controllerArgsOf,
  isControllerImage,
  labApiServer,
  type ControllerPod,
} from './ingress-controllers.js';
export { followL7 } from './ingress-observe.js';
export { onJsonLines } from './json-lines.js';
export { ensureIngressAddon, ingressAddonYaml } from './cluster-ingress.js';
export { ensureClusterDns, clusterDnsYaml, addonLines } from './cluster-dns.js';
export { applyClusterDns } from './cluster-dns.js';
export { applyIngressAddon } from './cluster-ingress.js';
export { registerOutsideCommands, outsideStatusLines } from './outside-commands.js';
export { applyDemo } from './demo.js';
export { netnsEtcDir } from './plan.js';
export {
  labPkiDir,
  labPki,
  labNodeCert,
  adminKubeconfigPath,
  labApiServerUrl,
  ensureLabPki,
  apiServerTlsArgs,
  writeAdminKubeconfig,
  labAdminConfig,
  writeClusterKubeconfigs,
  labNodeKubeconfigPath,
  ensureNodeKubeconfig,
} from './credentials.js';
export { superviseLab, readSupervisorStatus, supervisorStatusLines } from './supervisor.js';
export { holdNode, releaseNode, isHeld, withProcessLock } from './supervision.js';
export { restartEtcd } from './lab.js';
export { trace, type TraceOptions, type TraceOutcome, type ProbeFacts } from './trace-run.js';
