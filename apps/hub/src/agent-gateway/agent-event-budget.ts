/** What the limit decided about one incoming event. */
export type Admission = 'accept' | 'drop' | 'disconnect';

/**
 * Drops excess beyond this many seconds' worth of the limit, within ABUSE_WINDOW_MS, and the
 * socket is cut. A well-behaved agent never gets near it: its outbox keeps a bounded window of
 * messages in flight and resends a dropped one only after its ack timeout.
 */
const ABUSE_SECONDS_OF_EXCESS = 5;
const ABUSE_WINDOW_MS = 10_000;
const WINDOW_MS = 1_000;

/**
 * One agent socket's event rate limit: `eventsPerSecond` per one-second window; events over it
 * are dropped unanswered (the agent's outbox resends them later), and persistent excess is abuse,
 * for which the socket is cut. Kept by the socket's own handler, so it goes with the socket.
 *
 * Fixed windows, as rate-limiter-flexible's memory limiter counts them, but synchronous and
 * without timers: that limiter armed a timer for every window it opened, which at 10,000 idle
 * agents meant one timer and a few promises for each of ~700 health samples a second.
 */
export class AgentEventBudget {
  private windowEndsAt = Number.NEGATIVE_INFINITY;
  private spent = 0;
  private abuseWindowEndsAt = Number.NEGATIVE_INFINITY;
  private excess = 0;

  constructor(private readonly eventsPerSecond: number) {}

  admit(now = performance.now()): Admission {
    if (now >= this.windowEndsAt) {
      this.windowEndsAt = now + WINDOW_MS;
      this.spent = 0;
    }
    this.spent += 1;
    if (this.spent <= this.eventsPerSecond) return 'accept';
    if (now >= this.abuseWindowEndsAt) {
      this.abuseWindowEndsAt = now + ABUSE_WINDOW_MS;
      this.excess = 0;
    }
    this.excess += 1;
    return this.excess <= this.eventsPerSecond * ABUSE_SECONDS_OF_EXCESS ? 'drop' : 'disconnect';
  }
}
