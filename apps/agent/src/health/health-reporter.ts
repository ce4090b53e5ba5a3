import { ackSchema, AgentToHubEvent, type AgentFacts, type HealthSample } from '@outpost/protocol';
import { errorMessage } from '../errors';
import type { Logger } from '../logging/logger';

/** The interval a 1.0 hub's welcome leaves unsaid. */
export const DEFAULT_HEALTH_INTERVAL_SECONDS = 15;

export interface HealthReporterOptions {
  /** Sends without queueing; resolves with the hub's ack, or undefined when not sent or not acked. */
  sendFacts(facts: AgentFacts): Promise<unknown>;
  /** Sends without queueing and without an ack: the hub logs a sample it refuses. */
  sendSample(sample: HealthSample): void;
  facts(): Promise<AgentFacts>;
  sampler: { sample(): Promise<HealthSample> };
  logger: Logger;
}

/**
 * While connected: the static facts once per connection unless the handshake carried them (1.5;
 * again on the next tick until the hub has acked them), then a health sample at once and every
 * interval. Samples are never queued: one lost to a disconnect is replaced by the next, and a
 * sample slower than the interval makes the next tick skip rather than pile up.
 */
export class HealthReporter {
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by start and stop, so a tick from an old connection sends nothing on a new one. */
  private generation = 0;
  private factsAcked = false;
  private busy = false;

  constructor(private readonly options: HealthReporterOptions) {}

  start(intervalSeconds: number = DEFAULT_HEALTH_INTERVAL_SECONDS, { factsTaken = false } = {}): void {
    this.stop();
    const generation = this.generation;
    this.factsAcked = factsTaken;
    const tick = (): void => void this.tick(generation);
    tick();
    this.timer = setInterval(tick, intervalSeconds * 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.generation += 1;
  }

  private async tick(generation: number): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      if (!this.factsAcked) {
        const facts = await this.options.facts();
        if (generation !== this.generation) return;
        this.factsAcked = this.acked(AgentToHubEvent.Facts, await this.options.sendFacts(facts));
      }
      const sample = await this.options.sampler.sample();
      if (generation !== this.generation) return;
      this.options.sendSample(sample);
    } catch (error) {
      this.options.logger.warn({ error: errorMessage(error) }, 'health sampling failed');
    } finally {
      this.busy = false;
    }
  }

  /** True once the hub has answered (a refusal is logged and not retried: resending cannot fix it). */
  private acked(event: string, ack: unknown): boolean {
    if (ack === undefined) return false;
    const parsed = ackSchema.safeParse(ack);
    if (parsed.success && !parsed.data.ok) {
      this.options.logger.warn({ event, code: parsed.data.error.code, hubMessage: parsed.data.error.message }, 'hub refused a report');
    }
    return true;
  }
}
