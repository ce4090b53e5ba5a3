import { Migration20261123000000_initial } from './Migration20261123000000_initial';
import { Migration20261123100000_fleet } from './Migration20261123100000_fleet';
import { Migration20261123110000_execution_lifecycle } from './Migration20261123110000_execution_lifecycle';
import { Migration20261130100000_jobs } from './Migration20261130100000_jobs';
import { Migration20261130110000_execution_durability } from './Migration20261130110000_execution_durability';
import { Migration20261130200000_schedules } from './Migration20261130200000_schedules';
import { Migration20261130210000_secrets_at_rest } from './Migration20261130210000_secrets_at_rest';
import { Migration20261130220000_audit } from './Migration20261130220000_audit';
import { Migration20261130230000_sessions_and_api_tokens } from './Migration20261130230000_sessions_and_api_tokens';
import { Migration20261201000000_live_changes } from './Migration20261201000000_live_changes';

/** Listed explicitly: the order is the schema's history, and no file discovery happens at run time. */
export const MIGRATIONS = [
  { name: 'Migration20261123000000_initial', class: Migration20261123000000_initial },
  { name: 'Migration20261123100000_fleet', class: Migration20261123100000_fleet },
  { name: 'Migration20261123110000_execution_lifecycle', class: Migration20261123110000_execution_lifecycle },
  { name: 'Migration20261130100000_jobs', class: Migration20261130100000_jobs },
  { name: 'Migration20261130110000_execution_durability', class: Migration20261130110000_execution_durability },
  { name: 'Migration20261130200000_schedules', class: Migration20261130200000_schedules },
  { name: 'Migration20261130210000_secrets_at_rest', class: Migration20261130210000_secrets_at_rest },
  { name: 'Migration20261130220000_audit', class: Migration20261130220000_audit },
  { name: 'Migration20261130230000_sessions_and_api_tokens', class: Migration20261130230000_sessions_and_api_tokens },
  { name: 'Migration20261201000000_live_changes', class: Migration20261201000000_live_changes },
];
