import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { AgentsService } from './agents.service';

/** How often collected heartbeats are written: well inside the offline bound, one statement each time. */
const HEARTBEAT_FLUSH_MS = 1000;

/** Online/offline bookkeeping: batches heartbeats and sweeps agents that went silent. */
@Injectable()
export class AgentPresenceService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AgentPresenceService.name);
  private pending = new Map<string, string>();

  constructor(
    private readonly agents: AgentsService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval('agent-heartbeat-flush', setInterval(() => void this.flush(), HEARTBEAT_FLUSH_MS));
    // Sweep at a fraction of the bound, so an agent is offline within ~1.25× HUB_AGENT_OFFLINE_AFTER_S.
    const sweepMs = Math.max(500, (this.config.agentOfflineAfterSeconds * 1000) / 4);
    this.scheduler.addInterval('agent-offline-sweep', setInterval(() => void this.sweep(), sweepMs));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  heartbeat(agentId: string, connectionId: string): void {
    this.pending.set(agentId, connectionId);
  }

  private async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending].map(([agentId, connectionId]) => ({ agentId, connectionId }));
    this.pending = new Map();
    await this.agents.recordHeartbeats(batch).catch((error: Error) => this.logger.warn(`heartbeat flush failed: ${error.message}`));
  }

  private async sweep(): Promise<void> {
    const count = await this.agents.markSilentAgentsOffline().catch((error: Error) => {
      this.logger.warn(`offline sweep failed: ${error.message}`);
      return 0;
    });
    if (count > 0) this.logger.log(`${count} agent(s) went silent and are now offline`);
  }
}
