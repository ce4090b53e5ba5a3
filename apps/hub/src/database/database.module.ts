import { Module } from '@nestjs/common';
import { MikroOrmModule } from '@mikro-orm/nestjs';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { HUB_SECRETS, type HubSecrets } from '../config/hub-secrets';
import { ormOptions } from './orm-options';
import { SchemaMigrator } from './schema-migrator';
import { DatabaseHealth } from './database-health';

@Module({
  imports: [
    MikroOrmModule.forRootAsync({
      inject: [HUB_CONFIG, HUB_SECRETS],
      useFactory: (config: HubConfig, secrets: HubSecrets) => ormOptions(config, secrets.dataKey),
      // Registers the SQL-flavoured MikroORM and EntityManager for injection. The embedded PGlite
      // driver is SQL and PostgreSQL-compatible too, so both backends serve these same classes.
      driver: PostgreSqlDriver,
    }),
  ],
  providers: [SchemaMigrator, DatabaseHealth],
  exports: [DatabaseHealth],
})
export class DatabaseModule {}
