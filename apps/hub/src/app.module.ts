import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AgentGatewayModule } from './agent-gateway/agent-gateway.module';
import { AgentsModule } from './agents/agents.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { ErrorEnvelopeFilter } from './common/errors/error-envelope.filter';
import { ConfigModule } from './config/config.module';
import type { HubConfig } from './config/hub-config';
import type { HubSecrets } from './config/hub-secrets';
import { DatabaseModule } from './database/database.module';
import { DownloadsModule } from './downloads/downloads.module';
import { EnrollmentModule } from './enrollment/enrollment.module';
import { ExecutionsModule } from './executions/executions.module';
import { HealthModule } from './health/health.module';
import { RateLimitModule } from './http-security/rate-limit.module';
import { JobsModule } from './jobs/jobs.module';
import { LiveModule } from './live/live.module';
import { hubLoggerModule } from './logging/logger.module';
import { SchedulesModule } from './schedules/schedules.module';

@Module({})
export class AppModule {
  static forRoot(config: HubConfig, secrets: HubSecrets): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, secrets),
        hubLoggerModule(config),
        ScheduleModule.forRoot(),
        DatabaseModule,
        HealthModule,
        AuthModule,
        // After AuthModule: its guard must have named the user before the rate limit picks a key.
        RateLimitModule,
        AuditModule,
        EnrollmentModule,
        AgentsModule,
        ExecutionsModule,
        JobsModule,
        SchedulesModule,
        AgentGatewayModule,
        LiveModule,
        DownloadsModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: ErrorEnvelopeFilter }],
    };
  }
}
