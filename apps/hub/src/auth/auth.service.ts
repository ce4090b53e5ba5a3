import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { AppError } from '../common/errors/app-error';
import { PasswordHasher } from './password-hasher';
import { UsersService } from './users.service';

export interface LoginResult {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly jwt: JwtService,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  async login(username: string, password: string): Promise<LoginResult> {
    const user = await this.users.findByUsername(username);
    const valid = await this.hasher.verify(user?.passwordHash ?? (await this.hasher.unknownUserHash), password);
    if (!user || !valid || user.disabled) {
      throw new AppError('UNAUTHORIZED', 'Invalid username or password');
    }
    const accessToken = await this.jwt.signAsync({ sub: user.id }, { expiresIn: this.config.accessTokenTtlSeconds });
    return { accessToken, tokenType: 'Bearer', expiresIn: this.config.accessTokenTtlSeconds };
  }
}
