import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EntityManager } from '@mikro-orm/postgresql';
import { HUB_SECRETS, type HubSecrets } from '../config/hub-secrets';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly em: EntityManager,
    private readonly hasher: PasswordHasher,
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

  async findActive(id: string): Promise<User | null> {
    return this.em.fork().findOne(User, { id, disabled: false });
  }

  async findByUsername(username: string): Promise<User | null> {
    return this.em.fork().findOne(User, { username });
  }
}
