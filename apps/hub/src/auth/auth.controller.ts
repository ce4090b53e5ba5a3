import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiZodBody, ValidBody } from '../common/validation/zod-body';
import { AuthService, type LoginResult } from './auth.service';

const loginSchema = z.object({
  username: z.string().min(1).max(128),
  password: z.string().min(1).max(1024),
});

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @ApiZodBody(loginSchema)
  login(@ValidBody(loginSchema) body: z.infer<typeof loginSchema>): Promise<LoginResult> {
    return this.auth.login(body.username, body.password);
  }
}
