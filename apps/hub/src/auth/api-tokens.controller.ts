import { Controller, Delete, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { uuidSchema } from '../common/validation/common-schemas';
import { ApiZodBody, ValidBody, ValidParam } from '../common/validation/zod-body';
import { ApiTokensService } from './api-tokens.service';
import { type CreateApiToken, createApiTokenSchema } from './auth.schemas';
import { type AuthenticatedUser, CurrentUser } from './authenticated-user';

@ApiTags('tokens')
@ApiBearerAuth()
@Controller('api/v1/tokens')
export class ApiTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  /** The token is in this response only; the hub keeps its hash. */
  @Post()
  @ApiZodBody(createApiTokenSchema)
  create(@ValidBody(createApiTokenSchema) body: CreateApiToken, @CurrentUser() caller: AuthenticatedUser) {
    return this.tokens.create(caller, body);
  }

  @Get()
  list(@CurrentUser() caller: AuthenticatedUser) {
    return this.tokens.list(caller);
  }

  @Delete(':id')
  @HttpCode(204)
  revoke(@ValidParam('id', uuidSchema) id: string, @CurrentUser() caller: AuthenticatedUser): Promise<void> {
    return this.tokens.revoke(caller, id);
  }
}
