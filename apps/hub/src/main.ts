import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { existsSync, readFileSync } from 'node:fs';
import { AppModule } from './app.module';
import { resetPassword, ResetPasswordError } from './cli/reset-password';
import { ConfigError, type HubConfig, loadHubConfig } from './config/hub-config';
import { loadHubSecrets } from './config/hub-secrets';
import { DataDirLockedError, lockDataDir } from './database/data-dir-lock';
import { embeddedDatabaseDir } from './database/orm-options';
import { limitHeapGrowth } from './heap-growth';
import { DASHBOARD_DIR } from './config/repo-paths';
import { serveDashboard } from './dashboard/serve-dashboard';
import { assignRequestId } from './common/http/request-id';
import { corsAllowList } from './http-security/cors-allow-list';
import { jsonBodiesOnly } from './http-security/json-bodies-only';
import { securityHeaders } from './http-security/security-headers';
import { HubSocketAdapter } from './socket-adapter';
import { startupBanner } from './startup-banner';

async function bootstrap(): Promise<void> {
  limitHeapGrowth();
  const config = loadHubConfig();
  const secrets = loadHubSecrets(config);
  let unlock = (): void => undefined;
  if (!config.databaseUrl) {
    unlock = lockDataDir(config.dataDir);
    process.on('exit', () => unlock());
    if (!existsSync(embeddedDatabaseDir(config))) {
      process.stdout.write(
        `Creating the embedded database in ${embeddedDatabaseDir(config)} (first start only: takes about 15 s)...\n`,
      );
    }
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, secrets), {
    bufferLogs: true,
    bodyParser: false,
    ...(config.tls ? { httpsOptions: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } } : {}),
  });
  app.useLogger(app.get(Logger));
  app.use(assignRequestId);
  app.set('trust proxy', config.trustProxy);
  app.use(securityHeaders());
  app.use(corsAllowList(config.corsOrigins));
  app.use('/api', jsonBodiesOnly);
  app.useBodyParser('json', { limit: '2mb' });
  app.useWebSocketAdapter(new HubSocketAdapter(app, config.agentHeartbeatSeconds));
  app.enableShutdownHooks();
  app.disable('x-powered-by');
  serveDashboard(app, DASHBOARD_DIR);

  const openApi = new DocumentBuilder()
    .setTitle('Outpost hub API')
    .setDescription('Run commands on fleets of hosts through agents that dial out to this hub.')
    .setVersion('v1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('api/docs', app, () => SwaggerModule.createDocument(app, openApi));

  await listen(app, config);
  process.stdout.write(startupBanner(config, secrets));
}

/**
 * Node's default listen backlog of 511 overflows when a fleet reconnects after a restart: the
 * kernel drops the connection attempts beyond it, and each dropped agent waits out TCP's SYN
 * retransmits (1, 3, 7, 15 s) before it is even seen. The kernel caps it at net.core.somaxconn.
 */
const LISTEN_BACKLOG = 4096;

/** Nest's typings leave out the backlog argument, which its listen passes on to Node's. */
function listen(app: NestExpressApplication, config: HubConfig): Promise<unknown> {
  return (app.listen as unknown as (port: number, host: string, backlog: number) => Promise<unknown>).call(app, config.port, config.host, LISTEN_BACKLOG);
}

async function resetPasswordCommand(username: string | undefined): Promise<void> {
  if (!username) {
    process.stderr.write('Usage: npm run hub -- reset-password <username>\n');
    process.exit(2);
  }
  const password = await resetPassword(loadHubConfig(), username);
  process.stdout.write(`New password for ${username}: ${password}\nTheir sessions have ended; log in with this password and change it.\n`);
}

const [command, ...args] = process.argv.slice(2);
const main = command === 'reset-password' ? resetPasswordCommand(args[0]) : bootstrap();
main.catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirLockedError || error instanceof ResetPasswordError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`The hub could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
