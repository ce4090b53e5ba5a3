/** Event names, `noun.verb`. One place, so hub and agent cannot drift apart. */
export const HubToAgentEvent = {
  Welcome: 'agent.welcome',
  ExecutionAssign: 'execution.assign',
  ExecutionCancel: 'execution.cancel',
} as const;

export const AgentToHubEvent = {
  Heartbeat: 'agent.heartbeat',
  ExecutionStarted: 'execution.started',
  ExecutionOutput: 'execution.output',
  ExecutionFinished: 'execution.finished',
} as const;

/** Codes carried by a refused handshake (`connect_error`'s `data.code`) and by negative acks. */
export const ProtocolErrorCode = {
  Unauthorized: 'UNAUTHORIZED',
  ProtocolMismatch: 'PROTOCOL_MISMATCH',
  ValidationError: 'VALIDATION_ERROR',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  Internal: 'INTERNAL',
} as const;
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];
