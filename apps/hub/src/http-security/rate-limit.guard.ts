import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { AppError } from '../common/errors/app-error';
import { routeKeyOf } from '../common/http/route-key';
import { RATE_LIMIT_EXEMPT } from './rate-limit-exemptions';

/**
 * One allowance per caller across the whole API (not per route): per user once the access guard
 * has authenticated the request (API tokens count against their user, so minting tokens does not
 * multiply it), else per client address. Registered after the access guard for that reason.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    const key = routeKeyOf(context.switchToHttp().getRequest<Request>());
    return key !== undefined && key in RATE_LIMIT_EXEMPT;
  }

  protected override async getTracker(req: Request & { user?: AuthenticatedUser }): Promise<string> {
    return req.user ? `user:${req.user.id}` : `address:${await super.getTracker(req)}`;
  }

  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const res = context.switchToHttp().getResponse<Record<string, unknown>>();
    this.setResponseHeader(res, `${this.headerPrefix}-Limit`, detail.limit);
    this.setResponseHeader(res, `${this.headerPrefix}-Remaining`, 0);
    this.setResponseHeader(res, `${this.headerPrefix}-Reset`, detail.timeToBlockExpire);
    throw new AppError(
      'RATE_LIMITED',
      `Too many requests: at most ${detail.limit} per ${detail.ttl / 1000} s; retry after ${detail.timeToBlockExpire} s`,
      { limit: detail.limit, windowSeconds: detail.ttl / 1000, retryAfterSeconds: detail.timeToBlockExpire },
    );
  }
}
