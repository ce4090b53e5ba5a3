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
import { createRequire } from 'node:module';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
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
 * zod's messages in English only: its index re-exports every locale (`z.locales`), about 0.3 MB
 * of the bundle; the agent only ever uses the English one zod configures by default.
 */
const englishZod = {
  name: 'english-zod',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${path.sep}zod${path.sep}`) ? { path: 'zod-locales', namespace: 'english-zod', pluginData: args.resolveDir } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'english-zod' }, (args) => ({
      contents: `export { default as en } from '../locales/en.js';`,
      resolveDir: args.pluginData,
      loader: 'js',
    }));
  },
};

/**
 * Built-in modules that the agent and its dependencies `require` when they load but use only on
 * some paths: `https` and `tls` (an https hub, a proxy), `zlib` (the spool's checksums; WebSocket
 * compression), `assert` (failed checks), `v8` (execa's IPC, which the agent does not use). Each
 * import of one gets a stand-in with the same export names, as getters that load the real module
 * on first use, so an idle agent that never takes those paths never pays for them (issue #3:
 * `tls` alone is ~2.8 MB of RSS on Node 24, with `https` and `zlib` ~3.5 MB). A callable module
 * (`assert`) gets a callable stand-in. Export names are read from the building Node, which is no
 * newer than the binary's, so every name the bundled code can know of is there. The stand-ins are
 * read-only: nothing in the bundle assigns to these modules' exports.
 */
const LAZY_BUILTINS = ['https', 'tls', 'zlib', 'assert', 'v8'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(builder) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    builder.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin'
        ? { path: `node:${args.path.replace(/^node:/, '')}`, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    builder.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const real = require(`node:${args.path}`);
      const names = Object.keys(real).filter((name) => name !== 'default');
      return {
        contents: [
          `let real;`,
          `const load = () => (real ??= require('node:${args.path}'));`,
          typeof real === 'function'
            ? `const lazy = module.exports = function (...args) { return new.target ? Reflect.construct(load(), args, new.target) : load().apply(this, args); };`
            : `const lazy = module.exports;`,
          `for (const name of ${JSON.stringify(names)}) Object.defineProperty(lazy, name, { enumerable: true, get: () => load()[name] });`,
        ].join('\n'),
        loader: 'js',
      };
    });
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
    plugins: [rawText, oneZod, englishZod, lazyBuiltins],
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
