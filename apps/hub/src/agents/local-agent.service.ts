import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { Agent } from './agent.entity';
import { AgentsService } from './agents.service';

/** The agent config file format that `outpost-agent enroll` writes. */
const agentConfigSchema = z.object({
  hubUrl: z.string(),
  agentId: z.string().uuid(),
  credential: z.string(),
  name: z.string(),
});

/**
 * `npm start` runs one agent next to the hub. Its identity lives in the hub's data dir and is
 * reused on every start (never a second local agent); it is made anew only when missing or revoked.
 */
@Injectable()
export class LocalAgentService implements OnApplicationBootstrap {
  private readonly logger = new Logger(LocalAgentService.name);

  constructor(
    private readonly agents: AgentsService,
    private readonly em: EntityManager,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const file = this.config.localAgentConfigPath;
    if (!file) return;
    const existing = this.read(file);
    if (existing && (await this.em.fork().count(Agent, { id: existing.agentId, revokedAt: null })) === 1) return;
    const identity = await this.agents.createLocalIdentity({
      name: 'local',
      hostname: os.hostname(),
      os: process.platform === 'win32' ? 'windows' : process.platform,
      arch: process.arch,
    });
    const hubUrl = `http://127.0.0.1:${this.config.port}`;
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ hubUrl, ...identity }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temp, file);
    this.logger.log(`Created the local agent ${identity.agentId}; its identity is kept in ${file}`);
  }

  private read(file: string): z.infer<typeof agentConfigSchema> | null {
    if (!existsSync(file)) return null;
    try {
      const parsed = agentConfigSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }
}
