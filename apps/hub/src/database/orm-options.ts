import { PGlite } from '@electric-sql/pglite';
import { Migrator } from '@mikro-orm/migrations';
import { PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import path from 'node:path';
import type { HubConfig } from '../config/hub-config';
import { embeddedDriver } from './embedded-driver';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { DATA_KEY_ORM_OPTION } from './migrations/Migration20261130210000_secrets_at_rest';

export function embeddedDatabaseDir(config: HubConfig): string {
  return path.join(config.dataDir, 'pg');
}

/** One set of entities and migrations for both: the embedded PGlite and a real PostgreSQL. */
export async function ormOptions(config: HubConfig, dataKey: Buffer): Promise<Options> {
  const common: Options = {
    // Not a MikroORM option: read by the migration that seals secrets written before they were sealed.
    ...{ [DATA_KEY_ORM_OPTION]: dataKey.toString('base64') },
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: { migrationsList: MIGRATIONS, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    discovery: { warnWhenNoEntities: true },
    allowGlobalContext: false,
    debug: false,
  };
  if (config.databaseUrl) {
    return { ...common, driver: PostgreSqlDriver, clientUrl: config.databaseUrl, pool: { min: 1, max: 10 } };
  }
  const dir = embeddedDatabaseDir(config);
  return {
    ...common,
    driver: (await embeddedDriver()) as unknown as Options['driver'],
    dbName: 'postgres',
    driverOptions: { connection: { pglite: () => new PGlite(dir) } },
  };
}
