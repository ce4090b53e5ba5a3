import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

/**
 * argon2id for human passwords only (agent credentials use SHA-256, DESIGN.md §3).
 * 64 MiB, 3 passes, parallelism 4: above OWASP's minimum (19 MiB, 2 passes, 1 lane).
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 4 } as const;

@Injectable()
export class PasswordHasher {
  /** Verified against when the user does not exist, so response time does not reveal usernames. */
  readonly unknownUserHash: Promise<string> = argon2.hash(randomBytes(32), OPTIONS);

  hash(password: string): Promise<string> {
    return argon2.hash(password, OPTIONS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }
}
