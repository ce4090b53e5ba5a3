import { describe, expect, it } from 'vitest';
import { PreparedStatement } from './prepared-statement';

describe('PreparedStatement', () => {
  it('numbers the placeholders outside quoted literals', () => {
    const statement = new PreparedStatement('t', `select * from runs where id = ?::uuid and status in ('pending', 'running') and tag = ?::text`);
    expect(statement.text).toBe(
      `select * from runs where id = $1::uuid and status in ('pending', 'running') and tag = $2::text`,
    );
  });

  it("drops comments, whose words (the agent's, why?) are neither quotes nor placeholders", () => {
    const statement = new PreparedStatement('t', `select ?::int -- the agent's own, why?\n, 'a' || ?::text`);
    expect(statement.text).toBe(`select $1::int \n, 'a' || $2::text`);
  });

  it('refuses a ? inside a quoted literal instead of guessing', () => {
    expect(() => new PreparedStatement('t', `select '?' || ?::text`)).toThrow(/inside a quoted literal/);
  });
});
