import path from 'node:path';

/** The repository root, from this file's place in the build (dist/apps/hub/config/). */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');
/** Where `npm run build:agent` puts the agent binaries. */
export const AGENT_BINARIES_DIR = path.join(REPO_ROOT, 'dist/agent-binaries');
export const INSTALL_SCRIPTS_DIR = path.join(REPO_ROOT, 'deploy/install');
/** The dashboard's static build (`nx run dashboard:build`), served at `/`. */
export const DASHBOARD_DIR = path.join(REPO_ROOT, 'dist/apps/dashboard');
