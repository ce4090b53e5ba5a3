import { MikroORM } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { PasswordHasher } from '../auth/password-hasher';
import { HUB_SIGNAL_CHANNEL, type HubSignal } from '../cluster/hub-signals';
import type { HubConfig } from '../config/hub-config';
import { lockDataDir } from '../database/data-dir-lock';
import { ormOptions } from '../database/orm-options';
import { loadHubSecrets } from '../config/hub-secrets';
import type { Migrator } from '@mikro-orm/migrations';

/**
 * `npm run hub -- reset-password <username>`: for an admin locked out of the API, on the hub's
 * host only (it needs the database and the hub's configuration, never the API). Sets a new random password,
 * prints it, and ends the user's sessions. With the embedded database the hub must be stopped
 * first: the data folder has one owner.
 */
export async function resetPassword(config: HubConfig, username: string): Promise<string> {
  const unlock = config.databaseUrl ? () => undefined : lockDataDir(config.dataDir);
  const orm = await MikroORM.init(await ormOptions(config, loadHubSecrets(config).dataKey));
  try {
    // Migrating is the hub's job (it holds the keys some migrations need); this only reads and writes users.
    if ((await orm.getMigrator<Migrator>().getPendingMigrations()).length > 0) {
      throw new ResetPasswordError('The database is older than this hub: start the hub once to upgrade it, stop it, then run this again');
    }
    const password = randomBytes(18).toString('base64url');
    const hash = await new PasswordHasher().hash(password);
    const em = orm.em.fork();
    const [user] = await em.execute<{ id: string }[]>(`update users set password_hash = ? where username = ? returning id`, [hash, username]);
    if (!user) throw new ResetPasswordError(`There is no user named ${JSON.stringify(username)}`);
    await em.execute(
      `update user_sessions set revoked_at = now(), revoked_reason = 'password reset on the host' where user_id = ? and revoked_at is null`,
      [user.id],
    );
    if (config.databaseUrl) {
      const signal: HubSignal = { kind: 'sign-out', credentialIds: [], userIds: [user.id] };
      await em.execute('select pg_notify(?, ?)', [HUB_SIGNAL_CHANNEL, JSON.stringify(signal)]);
    }
    return password;
  } finally {
    await orm.close();
    unlock();
  }
}

export class ResetPasswordError extends Error {}
