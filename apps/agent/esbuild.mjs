// Bundles the agent into one CommonJS file: the same artifact runs from the source tree and goes
// into the single-executable binary. ws's optional native add-ons and supports-color are cut out
// because a bundled (or SEA) program can only require built-in modules at run time.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

await build({
  entryPoints: [new URL('./src/main.ts', import.meta.url).pathname],
  outfile: new URL('../../dist/apps/agent/main.cjs', import.meta.url).pathname,
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
  alias: { 'supports-color': new URL('./src/stubs/supports-color.cjs', import.meta.url).pathname },
});
