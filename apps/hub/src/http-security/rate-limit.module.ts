import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { RateLimitGuard } from './rate-limit.guard';

/**
 * API-wide rate limit (HUB_RATE_LIMIT_REQUESTS per HUB_RATE_LIMIT_WINDOW_S), counted in this hub's
 * memory: behind a balancer spreading calls over N hubs a caller gets up to N times the allowance.
 * Import after AuthModule: global guards run in registration order, and the key needs the user.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [HUB_CONFIG],
      useFactory: (config: HubConfig) => ({
        throttlers: [{ ttl: config.rateLimit.windowSeconds * 1000, limit: config.rateLimit.requests }],
      }),
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
})
export class RateLimitModule {}
