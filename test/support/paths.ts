import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const HUB_MAIN = path.join(ROOT, 'dist/apps/hub/main.js');
export const AGENT_MAIN = path.join(ROOT, 'dist/apps/agent/main.cjs');
