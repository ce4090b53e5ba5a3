import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** What the limiter decided about one incoming event. */
export type Admission = 'accept' | 'drop' | 'disconnect';

/**
 * Drops excess beyond this many seconds' worth of the limit, within ABUSE_WINDOW_S, and the
 * socket is cut. A well-behaved agent never gets near it: its outbox keeps a bounded window of
 * messages in flight and resends a dropped one only after its ack timeout.
 */
const ABUSE_SECONDS_OF_EXCESS = 5;
const ABUSE_WINDOW_S = 10;

/**
 * Per-socket event rate limit for agents (in memory: a socket lives on one hub). Events over the
 * limit are dropped unanswered, so the agent's outbox resends them later; persistent excess is
 * abuse, and the socket is disconnected.
 */
export class AgentEventLimiter {
  private readonly events: RateLimiterMemory;
  private readonly excess: RateLimiterMemory;

  constructor(readonly eventsPerSecond: number) {
    this.events = new RateLimiterMemory({ points: eventsPerSecond, duration: 1 });
    this.excess = new RateLimiterMemory({ points: eventsPerSecond * ABUSE_SECONDS_OF_EXCESS, duration: ABUSE_WINDOW_S });
  }

  async admit(socketId: string): Promise<Admission> {
    if (await consumed(this.events, socketId)) return 'accept';
    return (await consumed(this.excess, socketId)) ? 'drop' : 'disconnect';
  }

  async forget(socketId: string): Promise<void> {
    await Promise.all([this.events.delete(socketId), this.excess.delete(socketId)]);
  }
}

/** The library rejects with a RateLimiterRes when the points are spent, and with an Error only on a fault. */
async function consumed(limiter: RateLimiterMemory, key: string): Promise<boolean> {
  try {
    await limiter.consume(key);
    return true;
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return false;
    throw rejection;
  }
}
