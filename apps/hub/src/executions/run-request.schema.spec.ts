import { describe, expect, it } from 'vitest';
import { mergeRunFields, runRequestSchema, StoredSecret, targetSchema, toRunDefinition, toRunFields } from './run-request.schema';

const AGENT = '0b5c8f3e-4a49-4c8e-9a57-0d1f6f9b2a11';

function issues(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } } }, value: unknown) {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('target', () => {
  it('takes agentIds, a label selector or all', () => {
    expect(targetSchema.parse({ agentIds: [AGENT] })).toEqual({ agentIds: [AGENT] });
    expect(targetSchema.parse({ all: true })).toEqual({ all: true });
  });

  it('keeps a label selector as a normalized string', () => {
    expect(targetSchema.parse({ labels: ' env = prod ,role=web,' })).toEqual({ labels: 'env=prod,role=web' });
  });

  it('refuses an empty target: never "all hosts" by accident', () => {
    expect(issues(targetSchema, {})).toEqual([': give exactly one of agentIds, labels or all']);
    expect(issues(targetSchema, { labels: '' })).toEqual(['labels: must name at least one key=value']);
    expect(issues(targetSchema, { labels: ' , ' })).toEqual(['labels: must name at least one key=value']);
    expect(issues(targetSchema, { agentIds: [] })).toEqual(['agentIds: must name at least one agent']);
    expect(issues(targetSchema, { all: false })).toEqual(['all: must be true']);
  });

  it('refuses two kinds at once, unknown keys and malformed selectors', () => {
    expect(issues(targetSchema, { all: true, labels: 'a=b' })).toEqual([': give exactly one of agentIds, labels or all']);
    expect(issues(targetSchema, { label: 'a=b' })[0]).toMatch(/Unrecognized key/);
    expect(issues(targetSchema, { labels: 'env' })).toEqual(['labels: "env" is not key=value']);
    expect(issues(targetSchema, { agentIds: ['x'] })).toEqual(['agentIds.0: must be a UUID']);
  });
});

describe('run request', () => {
  const base = { target: { all: true } };

  it('needs exactly one of command, argv, script; shell only with script', () => {
    expect(issues(runRequestSchema, base)).toEqual(['command: give exactly one of command, argv or script']);
    expect(issues(runRequestSchema, { ...base, command: 'x', argv: ['y'] })).toEqual(['argv: give exactly one of command, argv or script']);
    expect(issues(runRequestSchema, { ...base, script: 'x' })).toEqual(['shell: is required with script']);
    expect(issues(runRequestSchema, { ...base, command: 'x', shell: 'sh' })).toEqual(['shell: is only valid with script']);
  });

  it('checks the orchestration fields', () => {
    expect(issues(runRequestSchema, { ...base, command: 'x', concurrency: 0, maxFailures: 0, retries: { max: 11 } })).toEqual([
      'concurrency: Too small: expected number to be >=1',
      'maxFailures: Too small: expected number to be >=1',
      'retries.max: Too big: expected number to be <=10',
    ]);
    expect(runRequestSchema.parse({ ...base, command: 'x', retries: { max: 2 } }).retries).toEqual({ max: 2, backoffSeconds: 10 });
  });
});

describe('merging and the stored form', () => {
  it('replaces the whole "what to run" when a new one is named', () => {
    const job = { command: 'echo', cwd: '/tmp' };
    expect(mergeRunFields<Record<string, unknown>>(job, { argv: ['ls'] })).toEqual({ argv: ['ls'], cwd: '/tmp' });
    expect(mergeRunFields<Record<string, unknown>>({ script: 'x', shell: 'sh' }, { shell: 'bash' })).toEqual({ script: 'x', shell: 'bash' });
    expect(mergeRunFields<Record<string, unknown>>(job, { cwd: null, command: undefined })).toEqual({ command: 'echo', cwd: null });
  });

  it('round-trips a request through its stored form, secrets included', () => {
    const request = runRequestSchema.parse({
      target: { all: true },
      script: 'echo $A',
      shell: 'bash',
      env: { A: 'plain', B: { value: 's3cret', secret: true } },
      concurrency: 2,
      retries: { max: 1, backoffSeconds: 0 },
    });
    const definition = toRunDefinition(request, (value, name) => `sealed(${name}=${value})`);
    expect(definition.env).toEqual({ A: { value: 'plain', secret: false }, B: { sealed: 'sealed(B=s3cret)', secret: true } });
    const fields = runRequestSchema.parse(toRunFields(definition));
    expect(fields).toEqual({
      ...request,
      env: { A: 'plain', B: new StoredSecret('sealed(B=s3cret)') },
      cwd: null,
      timeoutSeconds: null,
      deliveryTimeoutSeconds: null,
      maxFailures: null,
      retryLost: false,
    });
    // Stored again (a rerun, a job's run), a sealed secret is copied, never sealed twice.
    expect(toRunDefinition(fields, () => 'sealed again').env).toEqual(definition.env);
  });
});
