import { EventEmitter } from 'node:events';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { CANCEL_SIGNAL_BATCH, HUB_SIGNAL_CHANNEL, type HubSignal, hubSignalSchema, SIGN_OUT_SIGNAL_BATCH } from './hub-signals';

const RELISTEN_DELAY_MS = 1_000;

/**
 * Wake-ups between hubs that share one PostgreSQL, through LISTEN/NOTIFY on a dedicated
 * connection (a pooled one would lose its LISTEN when returned). With the embedded database there
 * is only this hub, so a signal is delivered in-process. Every hub receives its own signals too:
 * one path, whichever hub holds the agent.
 */
@Injectable()
export class HubSignalsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HubSignalsService.name);
  private readonly local = new EventEmitter();
  private listener: Client | undefined;
  private stopped = false;

  constructor(
    private readonly em: EntityManager,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.databaseUrl) await this.listen(this.config.databaseUrl);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.listener?.end().catch(() => undefined);
  }

  onSignal(handler: (signal: HubSignal) => void): void {
    this.local.on('signal', handler);
  }

  async dispatchQueued(runId: string): Promise<void> {
    await this.publish({ kind: 'dispatch', runId });
  }

  async cancel(executionIds: string[]): Promise<void> {
    for (let i = 0; i < executionIds.length; i += CANCEL_SIGNAL_BATCH) {
      await this.publish({ kind: 'cancel', executionIds: executionIds.slice(i, i + CANCEL_SIGNAL_BATCH) });
    }
  }

  /** Live sockets of these sessions / API tokens, and of these users, are to be cut. */
  async signOut(target: { credentialIds?: string[]; userIds?: string[] }): Promise<void> {
    const credentialIds = target.credentialIds ?? [];
    const userIds = target.userIds ?? [];
    for (let i = 0; i < Math.max(credentialIds.length, userIds.length); i += SIGN_OUT_SIGNAL_BATCH) {
      await this.publish({
        kind: 'sign-out',
        credentialIds: credentialIds.slice(i, i + SIGN_OUT_SIGNAL_BATCH),
        userIds: userIds.slice(i, i + SIGN_OUT_SIGNAL_BATCH),
      });
    }
  }

  private async publish(signal: HubSignal): Promise<void> {
    if (!this.config.databaseUrl) {
      this.local.emit('signal', signal);
      return;
    }
    await this.em.fork().execute('select pg_notify(?, ?)', [HUB_SIGNAL_CHANNEL, JSON.stringify(signal)]);
  }

  private async listen(databaseUrl: string): Promise<void> {
    const client = new Client({ connectionString: databaseUrl });
    let failed = false;
    // A dropped listener only delays work to the next sweep; come back and listen again.
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      this.logger.warn(`hub signal listener: ${error.message}; listening again in ${RELISTEN_DELAY_MS} ms`);
      if (this.listener === client) this.listener = undefined;
      void client.end().catch(() => undefined);
      this.relisten(databaseUrl);
    };
    client.on('notification', (message) => this.receive(message.payload));
    client.on('error', fail);
    try {
      await client.connect();
      await client.query(`listen ${HUB_SIGNAL_CHANNEL}`);
      this.listener = client;
    } catch (error) {
      fail(error as Error);
    }
  }

  private relisten(databaseUrl: string): void {
    if (this.stopped) return;
    setTimeout(() => void this.listen(databaseUrl), RELISTEN_DELAY_MS).unref();
  }

  private receive(payload: string | undefined): void {
    let signal: HubSignal;
    try {
      signal = hubSignalSchema.parse(JSON.parse(payload ?? ''));
    } catch {
      this.logger.warn('ignored a malformed hub signal');
      return;
    }
    this.local.emit('signal', signal);
  }
}
