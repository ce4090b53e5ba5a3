import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { AGENT_MAIN, HUB_MAIN } from './paths';
import { TestHub } from './test-hub';

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedTemplate: string;
    /** The name of a migrated database on DATABASE_URL's server; null without DATABASE_URL. */
    postgresTemplate: string | null;
  }
}

/**
 * System tests run the built hub and agent. Creating an embedded database takes ~15 s, and
 * migrating a PostgreSQL one ~0.7 s, so one of each is created and migrated here, once, and each
 * test's hub starts on a copy.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  for (const file of [HUB_MAIN, AGENT_MAIN]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` before the system tests`);
  }
  const hub = await TestHub.start({ database: 'embedded' });
  await hub.stop();
  const template = mkdtempSync(path.join(os.tmpdir(), 'outpost-template-'));
  cpSync(hub.dataDir, template, { recursive: true });
  project.provide('embeddedTemplate', template);
  let postgresHub: TestHub | undefined;
  if (process.env.DATABASE_URL) {
    postgresHub = await TestHub.start({ database: 'postgres', postgresTemplate: null });
    await postgresHub.stop();
  }
  project.provide('postgresTemplate', postgresHub ? new URL(postgresHub.databaseUrl!).pathname.slice(1) : null);
  return async () => {
    await postgresHub?.destroy();
    await hub.destroy();
    rmSync(template, { recursive: true, force: true });
  };
}
