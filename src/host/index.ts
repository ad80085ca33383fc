export {
  execaRunner,
  recordingRunner,
  type CommandRunner,
  type CommandResult,
  type RecordingRunner,
} from './runner.js';
export {
  startProcess,
  type ChildProcess,
  type ResultPromise,
  startDaemon,
  runInteractive,
  toolPath,
  runProcessSync,
  execProcess,
  inNetns,
  withNetns,
  signalGroup,
  type StartOptions,
} from './process.js';
export {
  podSandboxArgv,
  containerSandboxArgv,
  type PodSandboxSpec,
  type ContainerSandboxSpec,
  type SandboxMounts,
  type SandboxBind,
} from './sandbox.js';
export {
  processStartTicks,
  nsOf,
  childrenMap,
  sandboxedDescendant,
  liveProcessGroups,
  processRunning,
} from './procfs.js';
export { cmd } from './commands.js';
export { names, shortName, checkPrefix, checkName, IFNAMSIZ_MAX } from './names.js';
export { listNetns, netnsExists, ensureNetns, deleteNetnsWithPrefix, netnsPids, sweepNetns } from './netns.js';
export { showLink, listLinks, ipv4Addresses, type LinkInfo } from './links.js';
export { HostError, type HostErrorCode } from './errors.js';
export { startPty, type PtyOptions, type IPty } from './pty.js';
export { packageRoot, packagePath } from './package-root.js';
export {
  ensurePki,
  ensureLeafCert,
  pkiFiles,
  nodeCertFiles,
  nodeSubject,
  apiserverSans,
  certUsable,
  subjectArg,
  ADMIN_SUBJECT,
  APISERVER_KUBELET_CLIENT_SUBJECT,
  APISERVER_DNS_NAMES,
  CA_COMMON_NAME,
  KUBERNETES_SERVICE_IP,
  type PkiFiles,
  type PkiSpec,
  type CertPair,
  type CertSubject,
  type LeafOptions,
} from './pki.js';
