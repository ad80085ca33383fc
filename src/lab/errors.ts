/** What `lab up`, `lab down` and `lab restart-agent` can fail with; `code` is stable, the message says what to look at. */
export type LabErrorCode =
  | 'ERR_LAB_NOT_UP'
  | 'ERR_LAB_BUSY'
  | 'ERR_NO_SUCH_NODE'
  | 'ERR_START_FAILED'
  | 'ERR_AGENT_EXITED'
  | 'ERR_APISERVER_EXITED'
  | 'ERR_ETCD_EXITED'
  | 'ERR_LAB_NOT_REMOVED'
  // lab tools: pods, faults (lab break/fix), observe/capture clients, the outside's servers
  | 'ERR_NO_SUCH_POD'
  | 'ERR_POD_EXISTS'
  | 'ERR_NO_CONTAINERS'
  | 'ERR_AGENT_REFUSED'
  | 'ERR_NO_SUCH_SCENARIO'
  | 'ERR_FAULT'
  | 'ERR_NOT_FOUND'
  | 'ERR_NO_CONTROLLER'
  | 'ERR_NO_CONTROL_PLANE'
  | 'ERR_BAD_OPTION'
  | 'ERR_BAD_QUERY'
  | 'ERR_TIMEOUT';

export class LabError extends Error {
  readonly code: LabErrorCode;
  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LabError';
    this.code = code;
  }
}
