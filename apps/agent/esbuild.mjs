// Bundles the agent into one CommonJS file: the same artifact runs from the source tree and goes
// into the single-executable binary (scripts/build-agent-binaries.mjs). ws's optional native
// add-ons and supports-color are cut out because a bundled (or SEA) program can only require
// built-in modules at run time. Text templates (the systemd unit) are imported with `?raw`,
// as vite does in the unit tests, and bundled as strings.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const AGENT_BUNDLE = path.resolve(here, '../../dist/apps/agent/main.cjs');

/** `import text from './file?raw'` → the file's contents as a string. */
const rawText = {
  name: 'raw-text',
  setup(builder) {
    builder.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: path.resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)),
      namespace: 'raw-text',
    }));
    builder.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
      watchFiles: [args.path],
    }));
  },
};

export async function buildAgentBundle() {
  const { version } = JSON.parse(readFileSync(path.resolve(here, '../../package.json'), 'utf8'));
  await build({
    entryPoints: [path.join(here, 'src/main.ts')],
    outfile: AGENT_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
    define: {
      'process.env.WS_NO_BUFFER_UTIL': '"1"',
      'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
      __AGENT_VERSION__: JSON.stringify(version),
    },
    alias: { 'supports-color': path.join(here, 'src/stubs/supports-color.cjs') },
    plugins: [rawText],
  });
  return { bundle: AGENT_BUNDLE, version };
}

// `node apps/agent/esbuild.mjs` (the Nx build target) builds; importing only defines.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await buildAgentBundle();
}
