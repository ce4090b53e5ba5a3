import { describe, expect, it } from 'vitest';
import { AppError } from '../common/errors/app-error';
import { StoredSecret } from '../executions/run-request.schema';
import { applyOverrides, patchJob, toJobRecord } from './job-definition';
import { Job } from './job.entity';
import { jobSchema } from './job.schemas';

const seal = (value: string, name: string) => `sealed(${name}=${value})`;

function storedJob(): Job {
  const job = new Job();
  Object.assign(
    job,
    toJobRecord(
      jobSchema.parse({
        name: 'deploy',
        command: 'deploy.sh',
        target: { labels: 'role=web' },
        env: { REGION: 'eu', TOKEN: { value: 't0ken', secret: true } },
        concurrency: 2,
      }),
      {},
      seal,
    ),
  );
  return job;
}

function validationFields(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError && error.code === 'VALIDATION_ERROR') {
      return (error.details!.fields as { field: string }[]).map((f) => f.field);
    }
    throw error;
  }
  throw new Error('expected a VALIDATION_ERROR');
}

describe('secrets kept by name', () => {
  it('keeps a stored secret given back as {"secret":true}', () => {
    const job = storedJob();
    const record = toJobRecord(jobSchema.parse({ name: 'deploy', command: 'x', target: { all: true }, env: { TOKEN: { secret: true } } }), job.env, seal);
    expect(record.env).toEqual({ TOKEN: { sealed: 'sealed(TOKEN=t0ken)', secret: true } });
  });

  it('refuses {"secret":true} where nothing secret is stored under that name', () => {
    const job = storedJob();
    expect(validationFields(() => toJobRecord(jobSchema.parse({ name: 'j', command: 'x', target: { all: true }, env: { REGION: { secret: true } } }), job.env, seal))).toEqual(['env.REGION']);
    expect(validationFields(() => toJobRecord(jobSchema.parse({ name: 'j', command: 'x', target: { all: true }, env: { NEW: { secret: true } } }), {}, seal))).toEqual(['env.NEW']);
  });
});

describe('PATCH', () => {
  it('changes only the given fields and checks the job it makes', () => {
    const patched = patchJob(storedJob(), { argv: ['deploy', '--now'], concurrency: null });
    expect(patched).toMatchObject({ name: 'deploy', argv: ['deploy', '--now'], concurrency: null, target: { labels: 'role=web' } });
    expect(patched.command).toBeUndefined();
    expect(validationFields(() => patchJob(storedJob(), { shell: 'bash' }))).toEqual(['shell']);
  });
});

describe('run overrides', () => {
  it('overrides fields for one run and merges env key by key', () => {
    const request = applyOverrides(storedJob(), { target: { all: true }, env: { REGION: 'us' }, concurrency: null });
    expect(request).toMatchObject({ command: 'deploy.sh', target: { all: true }, concurrency: null });
    expect(request.env).toEqual({ REGION: 'us', TOKEN: new StoredSecret('sealed(TOKEN=t0ken)') });
  });

  it('runs the job as saved without overrides', () => {
    expect(applyOverrides(storedJob(), {})).toMatchObject({ command: 'deploy.sh', target: { labels: 'role=web' }, concurrency: 2 });
  });
});
