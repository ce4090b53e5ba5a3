import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { AGENT_MAIN, HUB_MAIN } from './paths';
import { TestHub } from './test-hub';

declare module 'vitest' {
  export interface ProvidedContext {
    embeddedTemplate: string;
  }
}

/**
 * System tests run the built hub and agent. Creating an embedded database takes ~15 s, so one
 * is created and migrated here, once, and each test copies it.
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
  return async () => {
    await hub.destroy();
    rmSync(template, { recursive: true, force: true });
  };
}
