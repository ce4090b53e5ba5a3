import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditRecorder } from './audit-recorder.middleware';
import { AuditResponseInterceptor } from './audit-response.interceptor';
import { AuditRetentionService } from './audit-retention.service';
import { AuditWriter } from './audit-writer.service';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

/** The audit log: recorded for every route in AUDITED_ACTIONS by one hook, read by admins. */
@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditWriter, AuditRetentionService, AuditRecorder, { provide: APP_INTERCEPTOR, useClass: AuditResponseInterceptor }],
})
export class AuditModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AuditRecorder).forRoutes('*');
  }
}
