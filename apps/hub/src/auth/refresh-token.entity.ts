import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/** Every refresh token issued, kept after use so that a second use is recognised as theft. */
@Entity({ tableName: 'refresh_tokens' })
export class RefreshToken {
  [OptionalProps]?: 'createdAt' | 'usedAt';

  /** SHA-256 of the token: the token itself is handed out once. */
  @PrimaryKey({ type: 'text' })
  tokenHash!: string;

  @Property({ type: 'uuid' })
  sessionId!: string;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  usedAt: Date | null = null;
}
