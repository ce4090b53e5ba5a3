import { describe, expect, it } from 'vitest';
import { labelSelectorSchema } from './label-selector';

describe('label selector', () => {
  it('parses terms into a map', () => {
    expect(labelSelectorSchema.parse('env=prod, role=web')).toEqual({ env: 'prod', role: 'web' });
  });
  it('allows an empty value', () => {
    expect(labelSelectorSchema.parse('tier=')).toEqual({ tier: '' });
  });
  it('refuses a term without =', () => {
    const result = labelSelectorSchema.safeParse('env=prod,oops');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('"oops" is not key=value');
  });
});
