import { Injectable } from '@nestjs/common';
import { MikroORM } from '@mikro-orm/postgresql';

@Injectable()
export class DatabaseHealth {
  constructor(private readonly orm: MikroORM) {}

  /** Null when the database answers within the deadline, otherwise why not. */
  async problem(timeoutMs = 2000): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`database did not answer within ${timeoutMs} ms`), timeoutMs);
    });
    const probe = this.orm.em
      .fork()
      .execute('select 1')
      .then(() => null)
      .catch((error: Error) => `database unreachable: ${error.message}`);
    try {
      return await Promise.race([probe, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}
