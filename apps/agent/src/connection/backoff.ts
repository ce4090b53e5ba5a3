export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0.5 spreads each delay over ±50 %, so a fleet refused at once does not return at once. */
  jitter: number;
}

/** Delay before retry number `attempt` (0-based): doubling from `initialMs`, capped, jittered. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  const spread = base * policy.jitter;
  return Math.round(Math.min(policy.maxMs, base - spread + random() * 2 * spread));
}
