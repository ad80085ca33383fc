/** What starting and running an agent can fail with. `code` is stable; the message says what to look at. */
export type AgentErrorCode =
  'ERR_NODE_REGISTRATION' | 'ERR_NO_NODE_ADDRESS' | 'ERR_NO_POD_CIDR' | 'ERR_BAD_REQUEST' | 'ERR_HANDOVER_REFUSED';

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
