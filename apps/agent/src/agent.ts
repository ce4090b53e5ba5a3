import type { Agent as HttpAgent } from 'node:http';
import { join } from 'node:path';
import { type AgentFacts, DEFAULT_OUTPUT_CAP_BYTES } from '@outpost/protocol';
import type { AgentConfig } from './config/agent-config';
import { HubConnection, type HubConnectionTiming } from './connection/hub-connection';
import { DEFAULT_OUTBOX_OPTIONS, Outbox, type OutboxOptions } from './connection/outbox';
import { HealthReporter } from './health/health-reporter';
import { HealthSampler } from './health/health-sampler';
import { collectAgentFacts, type HostFacts } from './health/host-facts';
import type { Logger } from './logging/logger';
import { errorMessage } from './errors';
import { LeftoverProcesses } from './runner/leftover-processes';
import { processTreeFor } from './runner/process-tree';
import { Runner } from './runner/runner';
import { ExecutionLedger } from './spool/execution-ledger';
import { DEFAULT_SPOOL_MAX_BYTES, SpoolStore } from './spool/spool-store';

export interface AgentOptions {
  config: Pick<AgentConfig, 'hubUrl' | 'agentId' | 'credential'>;
  agentVersion: string;
  facts: HostFacts;
  /** Holds the spool (`spool/`) and temporary script files. */
  dataDir: string;
  /** Disk the spool may take before running commands' output waits; DEFAULT_SPOOL_MAX_BYTES by default. */
  spoolMaxBytes?: number;
  maxConcurrent: number;
  killGraceMs: number;
  logger: Logger;
  /** Keeps a credential the hub rotated; the connection acks the rotation only once this resolves. */
  storeCredential: (credential: string) => Promise<void>;
  /** The route to the hub (proxy, CAs, pin). */
  httpAgent?: HttpAgent;
  /** Announced instead of the protocol version this agent speaks (tests). */
  protocolVersion?: string;
  platform?: NodeJS.Platform;
  timing?: HubConnectionTiming;
  outbox?: OutboxOptions;
  /** Where health samples come from; the host's own readings by default. */
  healthSampler?: { sample(): ReturnType<HealthSampler['sample']> };
  /** Where the host's facts come from; the host's own by default. */
  readFacts?: () => Promise<AgentFacts>;
}

/** Reports not yet acked at shutdown get this long to reach the hub. */
const SHUTDOWN_FLUSH_MS = 5_000;

/** The running agent: the hub connection, the runner behind it and the outbox between them. */
export class Agent {
  readonly runner: Runner;
  private readonly spool: SpoolStore;
  private readonly ledger: ExecutionLedger;
  private readonly leftovers: LeftoverProcesses | null;
  private readonly outbox: Outbox;
  private readonly connection: HubConnection;
  private readonly health: HealthReporter;

  /** Opens the spool in `dataDir` (sending what an earlier run left unacked); throws if it cannot. */
  constructor(private readonly options: AgentOptions) {
    const platform = options.platform ?? process.platform;
    const spoolDir = join(options.dataDir, 'spool');
    this.spool = SpoolStore.open({
      dir: spoolDir,
      maxBytes: options.spoolMaxBytes ?? DEFAULT_SPOOL_MAX_BYTES,
      logger: options.logger,
    });
    this.ledger = ExecutionLedger.open(join(spoolDir, 'executions.log'));
    this.leftovers = LeftoverProcesses.open(join(options.dataDir, 'process-groups'), platform);
    this.outbox = new Outbox(this.spool, options.logger, options.outbox ?? DEFAULT_OUTBOX_OPTIONS);
    this.runner = new Runner({
      report: (message) => this.outbox.enqueue(message),
      room: () => this.outbox.room(),
      accepted: this.ledger,
      processTree: processTreeFor(platform),
      platform,
      dataDir: options.dataDir,
      maxConcurrent: options.maxConcurrent,
      killGraceMs: options.killGraceMs,
      logger: options.logger,
      leftovers: this.leftovers,
    });
    this.connection = new HubConnection({
      config: options.config,
      agentVersion: options.agentVersion,
      facts: options.facts,
      outbox: this.outbox,
      logger: options.logger,
      timing: options.timing,
      httpAgent: options.httpAgent,
      protocolVersion: options.protocolVersion,
      session: {
        welcome: (welcome, taken) => {
          this.runner.setLimits({
            maxChunkBytes: welcome.maxOutputChunkBytes,
            outputCapBytes: welcome.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
          });
          this.health.start(welcome.healthIntervalSeconds, { factsTaken: taken.facts });
        },
        inventory: () => ({ running: this.runner.runningIds(), results: this.outbox.heldResults() }),
        facts: () => this.readFacts(),
        disconnected: () => this.health.stop(),
        assign: (assign) => this.runner.assign(assign),
        cancel: (cancel) => this.runner.cancel(cancel.executionId),
        runningCount: () => this.runner.runningCount,
        storeCredential: options.storeCredential,
      },
    });
    this.health = new HealthReporter({
      sendFacts: (facts) => this.connection.sendFacts(facts),
      sendSample: (sample) => this.connection.sendHealth(sample),
      facts: () => this.readFacts(),
      sampler: options.healthSampler ?? new HealthSampler(),
      logger: options.logger,
    });
  }

  private readFacts(): Promise<AgentFacts> {
    return this.options.readFacts ? this.options.readFacts() : collectAgentFacts(this.options.agentVersion);
  }

  start(): void {
    this.connection.start();
    this.stopLeftovers();
  }

  /** Commands an earlier agent process left running when it was killed: stopped, in the background. */
  private stopLeftovers(): void {
    const { leftovers, options } = this;
    if (!leftovers) return;
    leftovers
      .stopLeftovers(processTreeFor(options.platform ?? process.platform), options.killGraceMs, options.logger)
      .catch((error: unknown) => options.logger.warn({ error: errorMessage(error) }, 'cannot stop leftover processes'));
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
    this.health.stop();
    this.connection.close();
    // What the hub did not ack stays on disk for the next start.
    this.spool.close();
    this.ledger.close();
  }
}
