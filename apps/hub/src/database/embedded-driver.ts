import { AbstractSqlDriver, type Configuration, PostgreSqlPlatform } from '@mikro-orm/postgresql';

/**
 * The PGlite driver with one mend. MikroORM inlines the parameters of `em.execute(sql, params)`,
 * and knex-pglite takes any raw SQL that splits on `;` into several parts for a multi-statement
 * script, which PGlite answers with an array of results. So one statement with a `;` inside a
 * value (every browser's User-Agent has one) came back as `[[rows]]` instead of `[rows]`, and
 * `insert ... returning id` lost its id. A one-element array is unwrapped; real scripts keep theirs.
 */
export async function embeddedDriver(): Promise<new (config: Configuration) => AbstractSqlDriver> {
  // An ES module: loaded with import() from this CommonJS build, and only when the embedded database is used.
  const { PGliteConnection } = await import('mikro-orm-pglite');

  class SingleStatementPGliteConnection extends PGliteConnection {
    override transformRawResult<T>(response: unknown, method: 'all' | 'get' | 'run'): T {
      const single = Array.isArray(response) && response.length === 1 ? response[0] : response;
      return super.transformRawResult(single, method);
    }
  }

  return class EmbeddedDriver extends AbstractSqlDriver {
    constructor(config: Configuration) {
      super(config, new PostgreSqlPlatform(), SingleStatementPGliteConnection, ['knex', '@electric-sql/pglite', '@harryplusplus/knex-pglite']);
    }
  };
}
