import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { randomUUID } from 'node:crypto';
import { ROLES, type Role } from './roles';


@Entity({ tableName: 'users' })
export class User {
  [OptionalProps]?: 'disabled' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @Property({ type: 'text', unique: true })
  username!: string;

  @Property({ type: 'text', hidden: true })
  passwordHash!: string;

  @Enum({ items: () => ROLES, type: 'text' })
  role!: Role;

  @Property({ type: 'boolean' })
  disabled: boolean = false;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
