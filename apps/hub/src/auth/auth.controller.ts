import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiZodBody, ValidBody } from '../common/validation/zod-body';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { changePasswordSchema, loginSchema, type RefreshRequest, refreshSchema } from './auth.schemas';
import { AuthService, type TokenPair } from './auth.service';
import { type AuthenticatedUser, CurrentUser } from './authenticated-user';
import { clearedRefreshCookie, refreshCookie, refreshTokenFromCookie } from './refresh-cookie';
import type { z } from 'zod';

@ApiTags('auth')
@Controller('api/v1/auth')
export class AuthController {
  private readonly secureCookie: boolean;

  constructor(
    private readonly auth: AuthService,
    @Inject(HUB_CONFIG) config: HubConfig,
  ) {
    this.secureCookie = config.publicUrl.startsWith('https:');
  }

  @Post('login')
  @HttpCode(200)
  @ApiZodBody(loginSchema)
  async login(
    @ValidBody(loginSchema) body: z.infer<typeof loginSchema>,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenPair> {
    const pair = await this.auth.login(body.username, body.password, { address: request.ip, userAgent: request.get('user-agent') });
    response.setHeader('Set-Cookie', refreshCookie(pair.refreshToken, pair.refreshExpiresAt, this.secureCookie));
    return pair;
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiZodBody(refreshSchema)
  async refresh(
    @ValidBody(refreshSchema) body: RefreshRequest,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<TokenPair> {
    const pair = await this.auth.refresh(body.refreshToken ?? refreshTokenFromCookie(request.headers.cookie));
    response.setHeader('Set-Cookie', refreshCookie(pair.refreshToken, pair.refreshExpiresAt, this.secureCookie));
    return pair;
  }

  @Post('logout')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiZodBody(refreshSchema)
  async logout(
    @ValidBody(refreshSchema) body: RefreshRequest,
    @CurrentUser() user: AuthenticatedUser,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    await this.auth.logout(user, body.refreshToken ?? refreshTokenFromCookie(request.headers.cookie));
    response.setHeader('Set-Cookie', clearedRefreshCookie(this.secureCookie));
  }

  @Get('me')
  @ApiBearerAuth()
  me(@CurrentUser() user: AuthenticatedUser) {
    return this.auth.me(user);
  }

  @Post('password')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiZodBody(changePasswordSchema)
  changePassword(
    @ValidBody(changePasswordSchema) body: z.infer<typeof changePasswordSchema>,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<void> {
    return this.auth.changePassword(user, body.currentPassword, body.newPassword);
  }
}
