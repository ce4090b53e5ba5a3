import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { HubSignalsService } from '../cluster/hub-signals.service';
import { AppError } from '../common/errors/app-error';
import { containsPattern, fetchPage } from '../common/database/list-query';
import type { Page } from '../common/validation/common-schemas';
import { HUB_SECRETS, type HubSecrets } from '../config/hub-secrets';
import type { CreateUser, UpdateUser, UserListQuery } from './auth.schemas';
import { PasswordHasher } from './password-hasher';
import { SessionsService } from './sessions.service';
import type { Role } from './roles';
import { User } from './user.entity';

export interface UserView {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: Date;
}

function toUserView(user: User): UserView {
  const { id, username, role, disabled, createdAt } = user;
  return { id, username, role, disabled, createdAt };
}

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly em: EntityManager,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionsService,
    private readonly signals: HubSignalsService,
    @Inject(HUB_SECRETS) private readonly secrets: HubSecrets,
  ) {}

  /** First start: create `admin`. Later starts leave it alone, so a changed password stays changed. */
  async onApplicationBootstrap(): Promise<void> {
    const em = this.em.fork();
    if (await em.findOne(User, { username: 'admin' })) return;
    const admin = em.create(User, {
      username: 'admin',
      role: 'admin',
      passwordHash: await this.hasher.hash(this.secrets.adminPassword.value),
    });
    // Two hubs bootstrapping one fresh database at once: the unique username decides, quietly.
    await em.insert(User, admin, { onConflictAction: 'ignore', onConflictFields: ['username'] } as never).catch(() => undefined);
    this.logger.log('Created the admin user');
  }

  async findByUsername(username: string): Promise<User | null> {
    return this.em.fork().findOne(User, { username });
  }

  async get(id: string): Promise<UserView> {
    const user = await this.em.fork().findOne(User, { id });
    if (!user) throw AppError.notFound('User', id);
    return toUserView(user);
  }

  async list(query: UserListQuery): Promise<Page<UserView>> {
    const qb = this.em.fork().createQueryBuilder(User, 'u');
    if (query.role) qb.andWhere({ role: query.role });
    if (query.disabled !== undefined) qb.andWhere({ disabled: query.disabled });
    if (query.search) qb.andWhere({ username: { $ilike: containsPattern(query.search) } });
    return fetchPage(qb, query, toUserView);
  }

  async create(input: CreateUser): Promise<UserView> {
    const em = this.em.fork();
    const user = em.create(User, { username: input.username, role: input.role, passwordHash: await this.hasher.hash(input.password) });
    try {
      await em.persistAndFlush(user);
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) {
        throw new AppError('CONFLICT', `A user named ${input.username} already exists`);
      }
      throw error;
    }
    return toUserView(user);
  }

  /** Disabling a user or setting their password ends their sessions and cuts their live sockets. */
  async update(callerId: string, id: string, patch: UpdateUser): Promise<UserView> {
    const em = this.em.fork();
    const user = await em.findOne(User, { id });
    if (!user) throw AppError.notFound('User', id);
    const losesAdmin = user.role === 'admin' && !user.disabled && ((patch.role && patch.role !== 'admin') || patch.disabled === true);
    if (losesAdmin) await this.keepAnAdmin(em, id, id === callerId ? 'yourself' : user.username);
    if (patch.role) user.role = patch.role;
    if (patch.disabled !== undefined) user.disabled = patch.disabled;
    if (patch.password) user.passwordHash = await this.hasher.hash(patch.password);
    await em.flush();
    if (patch.disabled === true || patch.password) {
      await this.sessions.endAllOf(id, patch.disabled ? 'user disabled' : 'password set by an admin');
      await this.signals.signOut({ userIds: [id] });
    }
    return toUserView(user);
  }

  async delete(callerId: string, id: string): Promise<void> {
    if (id === callerId) throw new AppError('CONFLICT', 'You cannot delete yourself; ask another admin');
    const em = this.em.fork();
    const user = await em.findOne(User, { id });
    if (!user) throw AppError.notFound('User', id);
    if (user.role === 'admin' && !user.disabled) await this.keepAnAdmin(em, id, user.username);
    await em.removeAndFlush(user);
    await this.signals.signOut({ userIds: [id] });
  }

  /** Sets a password; every session but `keepSession` (the caller's own, when they change it themselves) ends. */
  async setPassword(id: string, password: string, keepSession?: string): Promise<void> {
    const updated = await this.em.fork().nativeUpdate(User, { id }, { passwordHash: await this.hasher.hash(password) });
    if (updated === 0) throw AppError.notFound('User', id);
    await this.sessions.endAllOf(id, 'password changed', keepSession);
  }

  private async keepAnAdmin(em: EntityManager, losingId: string, who: string): Promise<void> {
    const others = await em.count(User, { role: 'admin', disabled: false, id: { $ne: losingId } });
    if (others === 0) {
      throw new AppError('CONFLICT', `This would leave no enabled admin: ${who} is the last one. Make another admin first.`);
    }
  }
}
