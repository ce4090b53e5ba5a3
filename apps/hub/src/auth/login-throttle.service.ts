import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { AppError } from '../common/errors/app-error';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';

/**
 * Failed logins are counted per account and per client address over a sliding window; past the
 * limit, logins for that key are refused with 429 until the window passes (temporary: no account
 * is ever locked for good). Counters live in this hub's memory: with several hubs an attacker
 * gets that many times the attempts, which argon2's cost still makes slow.
 */
@Injectable()
export class LoginThrottle {
  private readonly perAccount: RateLimiterMemory;
  private readonly perAddress: RateLimiterMemory;

  constructor(@Inject(HUB_CONFIG) config: HubConfig) {
    const { maxFailuresPerAccount, maxFailuresPerAddress, windowSeconds } = config.loginThrottle;
    this.perAccount = new RateLimiterMemory({ keyPrefix: 'login-account', points: maxFailuresPerAccount, duration: windowSeconds });
    this.perAddress = new RateLimiterMemory({ keyPrefix: 'login-address', points: maxFailuresPerAddress, duration: windowSeconds });
  }

  /** Throws RATE_LIMITED when either key has used up its failures. */
  async check(username: string, address: string): Promise<void> {
    const [account, client] = await Promise.all([this.perAccount.get(accountKey(username)), this.perAddress.get(address)]);
    const blocked = [
      account && account.consumedPoints >= this.perAccount.points ? account.msBeforeNext : 0,
      client && client.consumedPoints >= this.perAddress.points ? client.msBeforeNext : 0,
    ];
    const waitMs = Math.max(...blocked);
    if (waitMs > 0) {
      const retryAfterSeconds = Math.ceil(waitMs / 1000);
      throw new AppError('RATE_LIMITED', `Too many failed logins; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
  }

  async recordFailure(username: string, address: string): Promise<void> {
    // consume() rejects once the points are used up; the count is what matters here.
    await Promise.allSettled([this.perAccount.consume(accountKey(username)), this.perAddress.consume(address)]);
  }

  async recordSuccess(username: string): Promise<void> {
    await this.perAccount.delete(accountKey(username));
  }
}

function accountKey(username: string): string {
  return username.toLowerCase();
}
