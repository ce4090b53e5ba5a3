import { describe, expect, it } from 'vitest';
import { duration, labelsText, parseLabels } from './format';
import { query } from '../api/client';

describe('dashboard formatting', () => {
  it('parses a label list as typed, and writes it back', () => {
    expect(parseLabels(' env=prod, role = web ,, url=a=b ')).toEqual({ env: 'prod', role: 'web', url: 'a=b' });
    expect(labelsText({ env: 'prod', role: 'web' })).toEqual(['env=prod', 'role=web']);
  });

  it('shows durations in the unit that reads best', () => {
    expect(duration(null)).toBe('–');
    expect(duration(12)).toBe('12 ms');
    expect(duration(1500)).toBe('1.5 s');
    expect(duration(125_000)).toBe('2 min 5 s');
  });

  it('leaves empty filters out of the query string', () => {
    expect(query({ status: 'online', labels: '', os: undefined, limit: 50 })).toBe('?status=online&limit=50');
    expect(query({ search: null })).toBe('');
  });
});
