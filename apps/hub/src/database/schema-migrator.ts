import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';
import type { Migrator } from '@mikro-orm/migrations';
import { Client } from 'pg';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';

/** Arbitrary but fixed: the advisory lock key under which hubs migrate the schema. */
const MIGRATION_LOCK_KEY = 7_300_001;

/**
 * Applies pending migrations at start. On PostgreSQL a session-level advisory lock, held on a
 * connection of its own for the whole migration (including the migrator's bookkeeping table),
 * makes hubs that start together migrate one after the other. The embedded database needs no
 * lock: the data-folder lock already keeps it to one hub.
 */
@Injectable()
export class SchemaMigrator implements OnModuleInit {
  private readonly logger = new Logger(SchemaMigrator.name);

  constructor(
    private readonly orm: MikroORM,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const applied = this.config.databaseUrl ? await this.migrateLocked(this.config.databaseUrl) : await this.migrate();
    if (applied.length > 0) this.logger.log(`Applied migration(s): ${applied.join(', ')}`);
  }

  private async migrate(): Promise<string[]> {
    const migrations = await (this.orm.getMigrator() as Migrator).up();
    return migrations.map((m) => m.name);
  }

  private async migrateLocked(databaseUrl: string): Promise<string[]> {
    const lock = new Client({ connectionString: databaseUrl });
    await lock.connect();
    try {
      await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      return await this.migrate();
    } finally {
      await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      await lock.end();
    }
  }
}
