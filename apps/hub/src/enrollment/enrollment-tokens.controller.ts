import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { type AuthenticatedUser, CurrentUser } from '../auth/authenticated-user';
import { labelsSchema, paginationSchema, uuidSchema } from '../common/validation/common-schemas';
import { ApiZodBody, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-body';
import { EnrollmentTokensService } from './enrollment-tokens.service';

const createSchema = z.object({
  labels: labelsSchema.default({}),
  expiresInSeconds: z.number().int().min(60).max(365 * 24 * 3600).default(24 * 3600),
  maxUses: z.number().int().min(1).max(100_000).nullable().default(null),
});

@ApiTags('enrollment')
@ApiBearerAuth()
@Controller('api/v1/enrollment-tokens')
export class EnrollmentTokensController {
  constructor(private readonly tokens: EnrollmentTokensService) {}

  @Post()
  @ApiZodBody(createSchema)
  create(@ValidBody(createSchema) body: z.infer<typeof createSchema>, @CurrentUser() user: AuthenticatedUser) {
    return this.tokens.create(body, user.id);
  }

  @Get()
  list(@ValidQuery(paginationSchema) query: z.infer<typeof paginationSchema>) {
    return this.tokens.list(query.limit, query.offset);
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@ValidParam('id', uuidSchema) id: string): Promise<void> {
    return this.tokens.revoke(id);
  }
}
