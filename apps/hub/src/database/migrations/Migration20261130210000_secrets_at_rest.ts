import { Migration } from '@mikro-orm/migrations';
import { SecretBox } from '../../common/crypto/secret-box';

/**
 * The ORM option that carries the data key (base64) to this migration: migrations are built by
 * MikroORM, not by Nest, so the key travels with the ORM options (orm-options.ts).
 */
export const DATA_KEY_ORM_OPTION = 'outpostDataKey';

type EnvColumn = Record<string, { value?: string; sealed?: string; secret: boolean }>;

/**
 * Secret env values were stored as `{"value": "...", "secret": true}`; from now on they are
 * `{"sealed": "v1:...", "secret": true}` (AES-256-GCM under the data key). Rows written before
 * are sealed here, in the same transaction as the rest of the migration.
 */
export class Migration20261130210000_secrets_at_rest extends Migration {
  override async up(): Promise<void> {
    const key = this.config.get(DATA_KEY_ORM_OPTION as never) as string | undefined;
    if (!key) throw new Error(`migration ${Migration20261130210000_secrets_at_rest.name} needs the data key`);
    const box = new SecretBox(Buffer.from(key, 'base64'));
    for (const table of ['jobs', 'runs']) {
      const rows = (await this.execute(
        `select id, env from ${table}
          where exists (select 1 from jsonb_each(env) e where e.value->>'secret' = 'true' and e.value ? 'value')`,
      )) as { id: string; env: EnvColumn }[];
      for (const row of rows) {
        const env = Object.fromEntries(
          Object.entries(row.env).map(([name, v]) =>
            v.secret && v.value !== undefined ? [name, { sealed: box.seal(v.value, name), secret: true }] : [name, v],
          ),
        );
        await this.execute(`update ${table} set env = ?::jsonb where id = ?`, [JSON.stringify(env), row.id]);
      }
    }
  }
}
