import { Migration20261123000000_initial } from './Migration20261123000000_initial';

/** Listed explicitly: the order is the schema's history, and no file discovery happens at run time. */
export const MIGRATIONS = [{ name: 'Migration20261123000000_initial', class: Migration20261123000000_initial }];
