import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { ValidQuery } from '../common/validation/zod-body';
import { type AuditQuery, auditQuerySchema } from './audit-query.schema';
import { AuditService } from './audit.service';

/** Read-only on purpose: the API has no route that changes or deletes an audit event. */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  list(@ValidQuery(auditQuerySchema) query: AuditQuery) {
    return this.audit.list(query);
  }
}
