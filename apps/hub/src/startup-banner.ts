import type { HubConfig } from './config/hub-config';
import type { HubSecrets } from './config/hub-secrets';

/**
 * What a person needs after start: where the hub is and how to log in. The generated admin
 * password is shown once, on the start that generated it, and never goes to the log.
 */
export function startupBanner(config: HubConfig, secrets: HubSecrets): string {
  const admin = secrets.adminPassword;
  const login =
    admin.source === 'generated-now'
      ? `admin / ${admin.value}   (generated now, shown once; also kept in ${admin.file})`
      : admin.source === 'file'
        ? `admin / (the password in ${admin.file})`
        : 'admin / (the password set in HUB_ADMIN_PASSWORD)';
  const database = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded, in ${config.dataDir}`;
  return [
    '',
    `Outpost hub ready at ${config.publicUrl}`,
    `  Dashboard: ${config.publicUrl}/`,
    `  API docs:  ${config.publicUrl}/api/docs`,
    `  Database:  ${database}`,
    `  Login:     ${login}`,
    '',
  ].join('\n');
}
