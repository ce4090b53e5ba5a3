import 'reflect-metadata';
import { type EntityClass, type EntityDictionary, MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITIES } from '../../database/entities';
import { Execution } from '../../executions/execution.entity';
import { toRunView } from '../../executions/execution-views';
import { Run } from '../../executions/run.entity';
import { readOnlyEntity } from './read-only-entity';

const at = '2026-12-02T10:51:22.835+00:00';
/** A run as `to_jsonb` renders it: a secret in its env, retries, a failed attempt. */
const runRow = {
  id: 'b419a6b8-6d41-4afa-9ced-1467144822ed', status: 'failed', trigger: 'manual',
  spec: { kind: 'command', command: 'echo $SECRET_X; exit 3' },
  env: { PLAIN_Y: { value: 'plain' }, SECRET_X: { secret: true, sealed: 'c2VhbGVk' } },
  cwd: '/tmp', timeout_seconds: 30, delivery_timeout_seconds: null, target: { agentIds: ['cff8f2a4-7329-424f-b0c0-61acdaede0f6'] },
  concurrency: 1, max_failures: 1, retries: { max: 1, backoffSeconds: 1 }, retry_lost: false, job_id: null, rerun_of: null,
  scheduled_at: null, reason: null, requested_by: '2dea272b-ce12-4a72-9a82-01e51aad2344', canceled_by: null, created_at: at, finished_at: at,
};
const executionRow = {
  id: '8c4db09a-3a1c-4088-857f-95199d685756', run_id: runRow.id, agent_id: 'cff8f2a4-7329-424f-b0c0-61acdaede0f6', attempt: 1,
  status: 'failed', reason: 'exit code 3', exit_code: 3, signal: null, pid: 4242, output_chunks: 1, created_at: at,
  dispatched_at: at, started_at: at, finished_at: at, deliver_by: at, cancel_requested_at: null, cancel_requested_by: null,
  not_before: null, output_truncated: true, output_dropped_bytes: 1234,
};

describe('readOnlyEntity', () => {
  let orm: MikroORM;
  beforeAll(async () => {
    orm = await MikroORM.init({ entities: ENTITIES, driver: PostgreSqlDriver, dbName: 'unused', connect: false, allowGlobalContext: false, debug: false });
  });
  afterAll(() => orm.close());

  it('builds the entities em.map builds, from to_jsonb rows and from node-postgres rows, without managing them', () => {
    const mapped = orm.em.fork();
    const unmanaged = orm.em.fork();
    const pgRow = { ...executionRow, created_at: new Date(at), finished_at: new Date(at), output_dropped_bytes: '1234' };
    const view = (map: <T extends object>(entity: EntityClass<T>, row: Record<string, unknown>) => T) =>
      toRunView(map(Run, runRow), [map(Execution, executionRow), map(Execution, pgRow)]);
    const expected = view((entity, row) => mapped.map(entity, row as EntityDictionary<never>));
    const actual = view((entity, row) => readOnlyEntity(unmanaged, entity, row));
    expect(actual).toEqual(expected);
    expect(actual.executions[1]).toMatchObject({ outputDroppedBytes: 1234, finishedAt: '2026-12-02T10:51:22.835Z' });
    expect(unmanaged.getUnitOfWork().getIdentityMap().values()).toHaveLength(0);
    expect(mapped.getUnitOfWork().getIdentityMap().values().length).toBeGreaterThan(0);
  });
});
