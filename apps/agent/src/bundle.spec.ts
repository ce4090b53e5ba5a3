import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error the build script is plain JavaScript without types
import { asciiOnly, buildAgentBundle } from '../esbuild.mjs';

describe('asciiOnly', () => {
  it('writes every character past ASCII as a \\u escape, per UTF-16 unit', () => {
    expect(asciiOnly('/[^°]/ // — "a😀"')).toBe('/[^\\u00b0]/ // \\u2014 "a\\ud83d\\ude00"');
  });

  it('refuses a character behind a backslash, whose escape would mean something else', () => {
    expect(() => asciiOnly('/\\°/')).toThrow(/cannot escape/);
  });
});

describe('the agent bundle', () => {
  let dir: string;
  let bundlePath: string;
  let source: string;
  let map: { sources: string[] };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'outpost-agent-bundle-'));
    const { bundle } = (await buildAgentBundle(join(dir, 'main.cjs'))) as { bundle: string };
    bundlePath = bundle;
    source = readFileSync(bundle, 'utf8');
    map = JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] };
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // One character past Latin-1 and V8 keeps the whole source, for the agent's life, as UTF-16.
  it('is pure ASCII', () => {
    const first = source.search(/[^\x00-\x7f]/);
    expect(first === -1 ? '' : source.slice(Math.max(0, first - 40), first + 10)).toBe('');
  });

  it('holds only the systeminformation modules the agent uses, not its index of all of them', () => {
    const modules = map.sources.filter((file) => file.includes('node_modules/systeminformation/lib/'));
    expect(modules.map((file) => file.split('/').pop()).sort()).toEqual(
      ['filesystem.js', 'memory.js', 'network.js', 'osinfo.js', 'util.js'],
    );
  });

  it('holds one copy of zod', () => {
    const zodCores = map.sources.filter((file) => /node_modules\/zod\/v4\/core\/core\.c?js$/.test(file));
    expect(zodCores).toHaveLength(1);
  });

  it('holds zod\'s English messages only', () => {
    const locales = map.sources.filter((file) => file.includes('node_modules/zod/v4/locales/'));
    expect(locales.map((file) => file.split('/').pop())).toEqual(['en.js']);
  });

  it('loads https, tls, zlib, assert and v8 only when something uses them', () => {
    const preload = join(dir, 'modules.cjs');
    writeFileSync(preload, `process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList)));`);
    const loaded = spawnSync(process.execPath, ['-r', preload, bundlePath, '--version'], { encoding: 'utf8' });
    expect(loaded.status, loaded.stderr).toBe(0);
    const modules = (JSON.parse(loaded.stderr) as string[]).filter((name) => name.startsWith('NativeModule '));
    expect(modules).toContain('NativeModule http');
    for (const lazy of ['https', 'tls', 'zlib', 'assert', 'v8']) expect(modules).not.toContain(`NativeModule ${lazy}`);
  });
});
