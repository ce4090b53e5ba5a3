import { Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { uuidSchema } from '../common/validation/common-schemas';
import { ApiZodBody, ValidBody, ValidParam, ValidQuery } from '../common/validation/zod-body';
import {
  type CreateUser,
  createUserSchema,
  type UpdateUser,
  updateUserSchema,
  type UserListQuery,
  userListSchema,
} from './auth.schemas';
import { type AuthenticatedUser, CurrentUser } from './authenticated-user';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  list(@ValidQuery(userListSchema) query: UserListQuery) {
    return this.users.list(query);
  }

  @Get(':id')
  get(@ValidParam('id', uuidSchema) id: string) {
    return this.users.get(id);
  }

  @Post()
  @ApiZodBody(createUserSchema)
  create(@ValidBody(createUserSchema) body: CreateUser) {
    return this.users.create(body);
  }

  @Patch(':id')
  @ApiZodBody(updateUserSchema)
  update(@ValidParam('id', uuidSchema) id: string, @ValidBody(updateUserSchema) body: UpdateUser, @CurrentUser() caller: AuthenticatedUser) {
    return this.users.update(caller.id, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  delete(@ValidParam('id', uuidSchema) id: string, @CurrentUser() caller: AuthenticatedUser): Promise<void> {
    return this.users.delete(caller.id, id);
  }
}
