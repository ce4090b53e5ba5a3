import { createSecretKey } from 'node:crypto';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { ClusterModule } from '../cluster/cluster.module';
import { HUB_SECRETS, type HubSecrets } from '../config/hub-secrets';
import { AccessGuard } from './access.guard';
import { ACCESS_TOKEN_ALGORITHM } from './access-token';
import { ApiTokensController } from './api-tokens.controller';
import { ApiTokensService } from './api-tokens.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { Authenticator } from './authenticator.service';
import { LoginThrottle } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

/** Who may do what: users, login sessions, API tokens, and the guard every route passes. */
@Module({
  imports: [
    ClusterModule,
    JwtModule.registerAsync({
      inject: [HUB_SECRETS],
      useFactory: (secrets: HubSecrets) => ({
        // A KeyObject made once: given a string, jsonwebtoken first tries (and fails) to parse it
        // as a public key on every verify (~1 ms of CPU per request). The typings predate KeyObject.
        secret: createSecretKey(Buffer.from(secrets.jwtSecret)) as unknown as Buffer,
        signOptions: { algorithm: ACCESS_TOKEN_ALGORITHM },
        verifyOptions: { algorithms: [ACCESS_TOKEN_ALGORITHM] },
      }),
    }),
  ],
  controllers: [AuthController, UsersController, ApiTokensController],
  providers: [
    AuthService,
    UsersService,
    SessionsService,
    ApiTokensService,
    Authenticator,
    LoginThrottle,
    PasswordHasher,
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [UsersService, Authenticator],
})
export class AuthModule {}
