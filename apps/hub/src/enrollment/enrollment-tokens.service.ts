import { Inject, Injectable } from '@nestjs/common';
import { HUB_CONFIG, type HubConfig } from '../config/hub-config';
import { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../common/errors/app-error';
import { newSecret, sha256Hex } from '../common/crypto/secrets';
import type { Page } from '../common/validation/common-schemas';
import { EnrollmentToken } from './enrollment-token.entity';

export interface CreateEnrollmentToken {
  labels: Record<string, string>;
  expiresInSeconds: number;
  maxUses: number | null;
}

export interface EnrollmentTokenView {
  id: string;
  labels: Record<string, string>;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked' | 'used_up';
  createdAt: string;
}

@Injectable()
export class EnrollmentTokensService {
  constructor(
    private readonly em: EntityManager,
    @Inject(HUB_CONFIG) private readonly config: HubConfig,
  ) {}

  /** Ready-to-paste install commands; the token is data to the scripts, never spliced into code. */
  installCommands(token: string): { linux: string; windows: string } {
    const hub = this.config.publicUrl;
    return {
      linux: `curl -fsSL ${hub}/install.sh | sudo sh -s -- --token ${token}`,
      windows: `powershell -NoProfile -ExecutionPolicy Bypass -Command "& ([scriptblock]::Create((irm ${hub}/install.ps1))) -Token ${token}"`,
    };
  }

  async create(
    input: CreateEnrollmentToken,
    createdBy: string,
  ): Promise<EnrollmentTokenView & { token: string; installCommands: { linux: string; windows: string } }> {
    const token = newSecret('opt');
    const row = this.em.create(EnrollmentToken, {
      tokenHash: sha256Hex(token),
      labels: input.labels,
      expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000),
      maxUses: input.maxUses,
      createdBy,
    });
    await this.em.persistAndFlush(row);
    return { ...toView(row), token, installCommands: this.installCommands(token) };
  }

  async list(limit: number, offset: number): Promise<Page<EnrollmentTokenView>> {
    const [rows, total] = await this.em.findAndCount(EnrollmentToken, {}, { orderBy: { createdAt: 'desc' }, limit, offset });
    return { items: rows.map(toView), total, limit, offset };
  }

  async revoke(id: string): Promise<void> {
    const updated = await this.em.nativeUpdate(EnrollmentToken, { id, revokedAt: null }, { revokedAt: new Date() });
    if (updated === 0 && !(await this.em.findOne(EnrollmentToken, { id }))) throw AppError.notFound('Enrollment token', id);
  }

  /**
   * Takes one use of a token inside the caller's transaction. One guarded UPDATE decides, so 50
   * concurrent enrollments with a single-use token yield exactly one agent.
   */
  async consume(em: EntityManager, token: string): Promise<{ id: string; labels: Record<string, string> }> {
    const tokenHash = sha256Hex(token);
    const rows = await em.execute<{ id: string; labels: Record<string, string> }[]>(
      `update enrollment_tokens set uses = uses + 1
        where token_hash = ? and revoked_at is null and expires_at > now() and (max_uses is null or uses < max_uses)
        returning id, labels`,
      [tokenHash],
    );
    if (rows.length === 1) return rows[0]!;
    const existing = await em.findOne(EnrollmentToken, { tokenHash });
    const why = !existing
      ? 'is not known to this hub'
      : existing.revokedAt
        ? 'has been revoked'
        : existing.expiresAt <= new Date()
          ? `expired at ${existing.expiresAt.toISOString()}`
          : 'has been used up';
    throw new AppError('UNAUTHORIZED', `Enrollment token ${why}`);
  }
}

function toView(row: EnrollmentToken): EnrollmentTokenView {
  const status = row.revokedAt
    ? 'revoked'
    : row.expiresAt <= new Date()
      ? 'expired'
      : row.maxUses !== null && row.uses >= row.maxUses
        ? 'used_up'
        : 'active';
  return {
    id: row.id,
    labels: row.labels,
    expiresAt: row.expiresAt.toISOString(),
    maxUses: row.maxUses,
    uses: row.uses,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    status,
    createdAt: row.createdAt.toISOString(),
  };
}
