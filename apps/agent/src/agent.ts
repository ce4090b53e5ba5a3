import type { AgentConfig } from './config/agent-config';
import { HubConnection, type HubConnectionTiming } from './connection/hub-connection';
import { DEFAULT_OUTBOX_OPTIONS, MemoryOutboxStore, Outbox, type OutboxOptions } from './connection/outbox';
import type { HostFacts } from './health/host-facts';
import type { Logger } from './logging/logger';
import { processTreeFor } from './runner/process-tree';
import { Runner } from './runner/runner';

export interface AgentOptions {
  config: Pick<AgentConfig, 'hubUrl' | 'agentId' | 'credential'>;
  agentVersion: string;
  facts: HostFacts;
  dataDir: string;
  maxConcurrent: number;
  killGraceMs: number;
  logger: Logger;
  platform?: NodeJS.Platform;
  timing?: HubConnectionTiming;
  outbox?: OutboxOptions;
}

/** Reports not yet acked at shutdown get this long to reach the hub. */
const SHUTDOWN_FLUSH_MS = 5_000;

/** The running agent: the hub connection, the runner behind it and the outbox between them. */
export class Agent {
  readonly runner: Runner;
  private readonly outbox: Outbox;
  private readonly connection: HubConnection;

  constructor(private readonly options: AgentOptions) {
    const platform = options.platform ?? process.platform;
    this.outbox = new Outbox(new MemoryOutboxStore(), options.logger, options.outbox ?? DEFAULT_OUTBOX_OPTIONS);
    this.runner = new Runner({
      report: (message) => this.outbox.enqueue(message),
      processTree: processTreeFor(platform),
      platform,
      dataDir: options.dataDir,
      maxConcurrent: options.maxConcurrent,
      killGraceMs: options.killGraceMs,
      logger: options.logger,
    });
    this.connection = new HubConnection({
      config: options.config,
      agentVersion: options.agentVersion,
      facts: options.facts,
      outbox: this.outbox,
      logger: options.logger,
      timing: options.timing,
      session: {
        welcome: (welcome) => this.runner.setMaxChunkBytes(welcome.maxOutputChunkBytes),
        assign: (assign) => this.runner.assign(assign),
        cancel: (cancel) => this.runner.cancel(cancel.executionId),
        runningCount: () => this.runner.runningCount,
      },
    });
  }

  start(): void {
    this.connection.start();
  }

  /**
   * Stops taking work, lets running executions finish for `graceMs` and stops the rest, gives
   * the hub a last chance to ack every report, then disconnects.
   */
  async stop(graceMs: number): Promise<void> {
    await this.runner.shutdown(graceMs);
    if (!(await this.outbox.flush(SHUTDOWN_FLUSH_MS))) {
      this.options.logger.warn({ unacked: this.outbox.size }, 'stopping with reports the hub has not acked');
    }
    this.connection.close();
  }
}
