/** Event names, `noun.verb`. One place, so hub and agent cannot drift apart. */
export const HubToAgentEvent = {
  Welcome: 'agent.welcome',
  ExecutionAssign: 'execution.assign',
  ExecutionCancel: 'execution.cancel',
  /** 1.1: answered with an ack at once; the hub measures the round trip. */
  Ping: 'agent.ping',
  /** 1.1: a new credential; the agent acks only after it has stored it. */
  CredentialRotate: 'credential.rotate',
} as const;

export const AgentToHubEvent = {
  /** Only to a hub whose welcome does not say `transportHeartbeat` (1.2 and older). */
  Heartbeat: 'agent.heartbeat',
  ExecutionStarted: 'execution.started',
  ExecutionOutput: 'execution.output',
  ExecutionFinished: 'execution.finished',
  /** 1.1: static facts, sent once per connection after the welcome. */
  Facts: 'agent.facts',
  /**
   * 1.1: a health sample, every `healthIntervalSeconds`. From 1.3 the agent asks no ack: a
   * refused sample is logged by the hub, and the next sample replaces a lost one.
   */
  Health: 'agent.health',
  /**
   * 1.2: after each welcome, what the agent runs and which results it still holds, so the hub
   * can end at once what the agent no longer has (an agent restart) instead of after the lease.
   */
  Inventory: 'agent.inventory',
} as const;

/** Capabilities an agent announces in its handshake; the hub uses a feature only when announced. */
export const AgentCapability = {
  Health: 'health',
  Ping: 'ping',
  CredentialRotation: 'credential-rotation',
  /** 1.2: sends `agent.inventory` after the welcome and keeps unacked reports in a disk spool. */
  Inventory: 'inventory',
  /** 1.2: caps each execution's output (head and tail kept) and reports the bytes it dropped. */
  OutputCap: 'output-cap',
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
