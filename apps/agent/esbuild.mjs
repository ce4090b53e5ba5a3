// Bundles the agent into one CommonJS file: the same artifact runs from the source tree and goes
// into the single-executable binary (scripts/build-agent-binaries.mjs). ws's optional native
// add-ons and supports-color are cut out because a bundled (or SEA) program can only require
// built-in modules at run time. Text templates (the systemd unit) are imported with `?raw`,
// as vite does in the unit tests, and bundled as strings.
//
// The whole file stays in the agent's heap as one source string for as long as it runs, so its
// size is idle memory (issue #3): it is minified (whitespace and syntax; names stay readable in
// stack traces), holds one copy of zod instead of two, and is pure ASCII, because a single
// character past Latin-1 makes V8 store the entire source as UTF-16, twice the bytes.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
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

/**
 * zod once: the protocol library is CommonJS and `require`s zod's CommonJS build, while the
 * agent's own `import`s would pull in its ES module build beside it (≈ 0.9 MB of source twice).
 * Every import of zod resolves as the ES module build, the smaller of the two once bundled.
 */
const oneZod = {
  name: 'one-zod',
  setup(builder) {
    builder.onResolve({ filter: /^zod(\/.*)?$/ }, (args) =>
      args.kind === 'import-statement'
        ? undefined
        : builder.resolve(args.path, { kind: 'import-statement', resolveDir: args.resolveDir }),
    );
  },
};

/**
 * Every character past ASCII written as a `\\uXXXX` escape (per UTF-16 unit). esbuild escapes
 * strings itself but leaves regular expression literals and legal comments as they are; an
 * escape means the same character in a string, a regular expression or a comment. Behind a
 * backslash it would not (`\°` would become a backslash and `u00b0`), so that case stops the build.
 */
export function asciiOnly(source) {
  return source.replace(/(\\?)([^\x00-\x7f])/g, (_match, backslash, char) => {
    if (backslash) throw new Error(`cannot escape the escaped character ${char} in the agent bundle`);
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** Builds the bundle into `outfile` (the one the binaries and system tests use by default). */
export async function buildAgentBundle(outfile = AGENT_BUNDLE) {
  const { version } = JSON.parse(readFileSync(path.resolve(here, '../../package.json'), 'utf8'));
  await build({
    entryPoints: [path.join(here, 'src/main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: true,
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    define: {
      'process.env.WS_NO_BUFFER_UTIL': '"1"',
      'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
      __AGENT_VERSION__: JSON.stringify(version),
    },
    alias: { 'supports-color': path.join(here, 'src/stubs/supports-color.cjs') },
    plugins: [rawText, oneZod],
  });
  // Each escape shifts the rest of its line by five columns in the source map: a few characters
  // in third-party code (one today), so the map stays good enough to read a stack trace with.
  await writeFile(outfile, asciiOnly(await readFile(outfile, 'utf8')));
  return { bundle: outfile, version };
}

// `node apps/agent/esbuild.mjs` (the Nx build target) builds; importing only defines.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await buildAgentBundle();
}
