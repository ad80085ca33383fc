export {
  execaRunner,
  recordingRunner,
  type CommandRunner,
  type CommandResult,
  type RecordingRunner,
} from './runner.js';
export { cmd } from './commands.js';
export { names, shortName, checkPrefix, checkName, IFNAMSIZ_MAX } from './names.js';
export { listNetns, netnsExists, ensureNetns, deleteNetnsWithPrefix, netnsPids } from './netns.js';
export { showLink, listLinks, ipv4Addresses, type LinkInfo } from './links.js';
export { HostError, type HostErrorCode } from './errors.js';
