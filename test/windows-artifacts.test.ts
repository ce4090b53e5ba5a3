import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ServiceHost } from '../apps/agent/src/service/service-host';
import { windowsServiceManager } from '../apps/agent/src/service/windows.service-manager';
import { WINSW_WRAPPER_NAME, WINSW_XML_NAME } from '../apps/agent/src/service/winsw-xml';
import { AGENT_BINARY, hasBinary } from './support/agent-binaries';
import { INSTALL_PS1_TEMPLATE } from './support/fake-install-hub';
import { AGENT_MAIN } from './support/paths';
import { MACHINE, OPTIONAL_MAGIC, PeFile, SUBSYSTEM_WINDOWS_CUI } from './support/pe-file';
import { TestHub } from './support/test-hub';

/** What Windows itself cannot check for us here: these run on Linux, from the built files. */

const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Node's SeaResource::kMagic, the first four bytes (little-endian) of every SEA blob. */
const SEA_BLOB_MAGIC = 0x0143da20;
const RT_RCDATA = 10;
/** The defaults of $env:ProgramFiles and $env:ProgramData, which install.ps1 installs under. */
const PROGRAM_FILES = 'C:\\Program Files';
const PROGRAM_DATA = 'C:\\ProgramData';

const installPs1 = readFileSync(INSTALL_PS1_TEMPLATE, 'utf8');

/** The leaf in install.ps1's `$variable = Join-Path $base 'leaf'`. */
function joinedLeaf(variable: string, base: string): string {
  const match = new RegExp(`^ *\\$${variable} = Join-Path \\$${base} '([^']+)'$`, 'm').exec(installPs1);
  if (!match) throw new Error(`install.ps1 sets no $${variable} = Join-Path $${base} '...'`);
  return match[1]!;
}

/** The parameter names of the param() block. */
function declaredParameters(script: string): string[] {
  const block = /^param\(([\s\S]*?)\n\)/m.exec(script)?.[1] ?? '';
  return [...block.matchAll(/\$(\w+)/g)].map((m) => m[1]!);
}

interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A strict reader for the XML we write (no DTD, no CDATA): anything not well-formed throws. */
function parseXml(source: string): XmlElement {
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`not well-formed XML at offset ${at}: ${why}`);
  };
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  const decode = (raw: string): string => {
    if (/<|&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(raw)) fail(`unescaped < or & in ${JSON.stringify(raw)}`);
    return raw.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, entity: string) =>
      entity.startsWith('#x') ? String.fromCodePoint(parseInt(entity.slice(2), 16)) : entity.startsWith('#') ? String.fromCodePoint(Number(entity.slice(1))) : entities[entity]!,
    );
  };
  /** Skips white space and comments; a comment that is not well formed throws. */
  const skipComments = (): void => {
    for (let m; (m = /^(?:\s+|<!--(?:(?!--)[\s\S])*-->)/.exec(source.slice(at))); ) at += m[0].length;
    if (source.startsWith('<!--', at)) fail('comment without --> or with -- inside');
  };
  const element = (): XmlElement => {
    const open = /^<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(source.slice(at)) ?? fail('expected a start tag');
    at += open[0].length;
    const node: XmlElement = { name: open[1]!, attributes: {}, children: [], text: '' };
    for (const [, name, quoted] of open[2]!.matchAll(/([A-Za-z_][\w.-]*)\s*=\s*("[^"]*"|'[^']*')/g)) {
      if (name! in node.attributes) fail(`attribute ${name} given twice`);
      node.attributes[name!] = decode(quoted!.slice(1, -1));
    }
    if (open[3]) return node;
    for (;;) {
      const text = /^[^<]*/.exec(source.slice(at))![0];
      node.text += decode(text);
      at += text.length;
      const close = new RegExp(`^</${node.name}\\s*>`).exec(source.slice(at));
      if (close) {
        at += close[0].length;
        return node;
      }
      if (source.startsWith('<!--', at)) skipComments();
      else if (source.startsWith('</', at) || at >= source.length) fail(`</${node.name}> expected`);
      else node.children.push(element());
    }
  };
  at = /^<\?xml [^?]*\?>/.exec(source)?.[0].length ?? 0;
  skipComments();
  const root = element();
  skipComments();
  if (at !== source.length) fail('content after the root element');
  return root;
}

function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

/** Every element and attribute name below the root. */
function namesIn(element: XmlElement): string[] {
  return element.children.flatMap((child) => [child.name, ...Object.keys(child.attributes), ...namesIn(child)]);
}

/**
 * The WinSW definition `outpost-agent install --config $Config --data-dir $DataDir --binary $Agent`
 * writes for install.ps1's default paths (rendered, nothing installed).
 */
function serviceDefinitionForInstallPs1() {
  const binDir = path.win32.join(PROGRAM_FILES, joinedLeaf('BinDir', 'env:ProgramFiles'));
  const dataDir = path.win32.join(PROGRAM_DATA, joinedLeaf('DataDir', 'env:ProgramData'));
  const agent = path.win32.join(binDir, joinedLeaf('Agent', 'BinDir'));
  const configPath = path.win32.join(dataDir, joinedLeaf('Config', 'DataDir'));
  expect(installPs1).toMatch(/^ *& \$Agent install --config \$Config --data-dir \$DataDir --binary \$Agent$/m);
  const untouchable = (): never => {
    throw new Error('rendering the service definition must not touch the system');
  };
  const host: ServiceHost = {
    platform: 'win32',
    exists: untouchable,
    writeFile: untouchable,
    removeFile: untouchable,
    makeDirectory: untouchable,
    run: untouchable,
    isAdministrator: untouchable,
  };
  const [file] = windowsServiceManager(host, agent).render({
    command: [agent],
    configPath,
    dataDir,
    environment: { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: 'localhost&.corp' },
    sandbox: true,
    extraReadWritePaths: [],
  });
  return { binDir, dataDir, agent, configPath, file: file! };
}

describe.skipIf(!hasBinary(AGENT_BINARY.winX64))('the Windows agent binary', () => {
  let bytes: Buffer;
  let pe: PeFile;
  beforeAll(() => {
    bytes = readFileSync(AGENT_BINARY.winX64);
    pe = new PeFile(bytes);
  });

  it('is a 64-bit Windows console program: MZ and PE headers, x86-64, PE32+', () => {
    expect(pe.machine).toBe(MACHINE.amd64);
    expect(pe.optionalMagic).toBe(OPTIONAL_MAGIC.pe32Plus);
    expect(pe.subsystem).toBe(SUBSYSTEM_WINDOWS_CUI);
    expect(pe.sections.map((s) => s.name)).toContain('.rsrc');
  });

  it('has the Node SEA fuse flipped, so on Windows it runs the injected agent rather than plain Node', () => {
    expect(bytes.includes(`${SEA_FUSE}:1`)).toBe(true);
    expect(bytes.includes(`${SEA_FUSE}:0`)).toBe(false);
  });

  it('carries the agent as the RT_RCDATA resource NODE_SEA_BLOB, where Node on Windows looks for it', () => {
    const blobs = pe.resources().filter((resource) => resource.name === 'NODE_SEA_BLOB');
    expect(blobs.map(({ type }) => type)).toEqual([RT_RCDATA]);
    const blob = blobs[0]!.data;
    expect(blob.readUInt32LE(0)).toBe(SEA_BLOB_MAGIC);
    expect(blob.includes('Outpost agent: dials out to the hub')).toBe(true);
  });

  it('carries no Windows Authenticode signature, which injecting the blob would have broken', () => {
    expect(pe.signatureSize).toBe(0);
  });
});

describe.skipIf(!hasBinary(AGENT_BINARY.winServiceWrapper))('the Windows service wrapper (WinSW)', () => {
  let pe: PeFile;
  beforeAll(() => {
    pe = new PeFile(readFileSync(AGENT_BINARY.winServiceWrapper));
  });

  it('is a valid Windows PE: a 32-bit .NET console program built for CLR 2.0', () => {
    expect(pe.machine).toBe(MACHINE.i386);
    expect(pe.optionalMagic).toBe(OPTIONAL_MAGIC.pe32);
    expect(pe.subsystem).toBe(SUBSYSTEM_WINDOWS_CUI);
    expect(pe.clrMetadata()?.runtimeVersion).toBe('v2.0.50727');
  });

  it('gets from install.ps1 the runtime config that lets it run on Windows with .NET 4 only', () => {
    // Without it, a CLR 2.0 program asks for the .NET 3.5 feature, which Windows 8 and later lack by default.
    expect(installPs1).toMatch(/^ *Set-Content -LiteralPath "\$Wrapper\.config" -Value \$WrapperRuntimeConfig /m);
    const text = /^\$WrapperRuntimeConfig = @'\n([\s\S]*?)\n'@$/m.exec(installPs1)?.[1] ?? '';
    const config = parseXml(text);
    expect(config.name).toBe('configuration');
    const runtimes = childrenNamed(config, 'startup').flatMap((startup) => childrenNamed(startup, 'supportedRuntime'));
    expect(runtimes.map((runtime) => runtime.attributes.version)).toContain('v4.0');
  });

  it('reads every element and attribute of the Windows service definition the agent writes', () => {
    // WinSW 1.17 looks them up by name (some as XPath "//name"): each name must be among its strings.
    const strings = new Set(pe.clrMetadata()?.userStrings ?? []);
    const xml = parseXml(serviceDefinitionForInstallPs1().file.content);
    const unknown = [...new Set(namesIn(xml))].filter((name) => !strings.has(name) && !strings.has(`//${name}`));
    expect(unknown).toEqual([]);
    expect(strings.has('roll-by-size')).toBe(true);
  });
});

describe('the Windows service definition and install.ps1', () => {
  it('the Windows service definition for install.ps1 paths is well-formed XML beside the wrapper, restarting the agent and rolling its logs', () => {
    const { binDir, dataDir, agent, configPath, file } = serviceDefinitionForInstallPs1();
    // WinSW reads the XML named like itself: install.ps1's wrapper name and the agent's must agree.
    expect(joinedLeaf('Wrapper', 'BinDir')).toBe(WINSW_WRAPPER_NAME);
    expect(file.path).toBe(path.win32.join(binDir, WINSW_XML_NAME));
    expect(WINSW_XML_NAME).toBe(WINSW_WRAPPER_NAME.replace(/\.exe$/, '.xml'));

    const service = parseXml(file.content);
    expect(service.name).toBe('service');
    const text = (name: string) => childrenNamed(service, name).map((element) => element.text);
    expect(text('id')).toEqual(['outpost-agent']);
    expect(text('executable')).toEqual([agent]);
    expect(text('arguments')).toEqual([`run --config ${configPath} --data-dir ${dataDir}`]);
    expect(text('startmode')).toEqual(['Automatic']);
    const failures = childrenNamed(service, 'onfailure');
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((failure) => failure.attributes.action === 'restart' && /^\d+ sec$/.test(failure.attributes.delay ?? ''))).toBe(true);
    expect(text('logpath')).toEqual([path.win32.join(dataDir, 'logs')]);
    const [log] = childrenNamed(service, 'log');
    expect(log?.attributes.mode).toBe('roll-by-size');
    expect(Number(childrenNamed(log!, 'sizeThreshold')[0]?.text)).toBeGreaterThan(0);
    expect(Number(childrenNamed(log!, 'keepFiles')[0]?.text)).toBeGreaterThan(0);
    expect(childrenNamed(service, 'env').map((env) => env.attributes)).toEqual([
      { name: 'HTTPS_PROXY', value: 'http://proxy.corp:3128' },
      { name: 'NO_PROXY', value: 'localhost&.corp' },
    ]);
  });

  it('install.ps1 (Windows) calls the agent only with options the agent has', () => {
    const help = (command: string) => {
      const result = spawnSync(process.execPath, [AGENT_MAIN, command, '--help'], { encoding: 'utf8' });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout;
    };
    const enrollOptions = installPs1
      .split('\n')
      .filter((line) => line.includes('$enrollArguments'))
      .flatMap((line) => [...line.matchAll(/'(--[a-z-]+)'/g)].map((m) => m[1]!));
    expect(enrollOptions).toEqual(['--hub', '--token', '--config', '--name', '--ca-file', '--pin', '--replace']);
    const installLine = /^ *& \$Agent install (.*)$/m.exec(installPs1)?.[1] ?? '';
    const installOptions = [...installLine.matchAll(/(--[a-z-]+)/g)].map((m) => m[1]!);
    expect(installOptions.length).toBeGreaterThan(0);
    const enrollHelp = help('enroll');
    const installHelp = help('install');
    expect(enrollOptions.filter((option) => !enrollHelp.includes(`${option} `))).toEqual([]);
    expect(installOptions.filter((option) => !installHelp.includes(`${option} `))).toEqual([]);
  });

  it('the Windows PE reader refuses what is not a PE file', () => {
    expect(() => new PeFile(readFileSync(AGENT_MAIN))).toThrow('no MZ header');
    const mzOnly = Buffer.alloc(0x100);
    mzOnly.write('MZ', 0, 'latin1');
    mzOnly.writeUInt32LE(0x80, 0x3c);
    expect(() => new PeFile(mzOnly)).toThrow('no PE signature at e_lfanew 0x80');
  });
});

describe.skipIf(!hasBinary(AGENT_BINARY.winX64) || !hasBinary(AGENT_BINARY.winServiceWrapper))('Windows install through a hub', () => {
  const PUBLIC_URL = 'https://outpost.example.test:8443';
  let hub: TestHub;
  let served: string;

  beforeAll(async () => {
    hub = await TestHub.start({ database: 'embedded', embeddedTemplate: inject('embeddedTemplate'), env: { HUB_PUBLIC_URL: PUBLIC_URL } });
    const response = await hub.request('GET', '/install.ps1', undefined, null);
    if (response.status !== 200) throw new Error(`GET /install.ps1: ${response.status} ${response.text}`);
    served = response.text;
  });
  afterAll(async () => {
    await hub?.destroy();
  });

  it('the hub serves install.ps1 for Windows with its public URL in $HubUrl, as plain ASCII, otherwise as in the repository', () => {
    expect(served).toMatch(new RegExp(`^\\$HubUrl = '${PUBLIC_URL}'$`, 'm'));
    expect(served).toBe(installPs1.replaceAll('__OUTPOST_HUB_URL__', PUBLIC_URL));
    // The split-up placeholder check must survive the substitution, or the script would refuse to run.
    expect(served).toContain(`('__OUTPOST_' + 'HUB_URL__')`);
    // Windows PowerShell 5.1 reads a saved script without a BOM in the ANSI code page.
    expect(served).toMatch(/^[\t\n\r\x20-\x7e]*$/);
  });

  it('the hub serves the Windows downloads install.ps1 fetches, matching the checksums served beside them', async () => {
    const names = [...served.matchAll(/"\$HubUrl\/downloads\/agent\/([\w-]+)"/g)].map((m) => m[1]!);
    expect(names).toEqual(['win-x64', 'win-x64-service-wrapper']);
    for (const name of names) {
      const checksum = await fetch(`${hub.url}/downloads/agent/${name}.sha256`);
      expect(checksum.status).toBe(200);
      const expected = (await checksum.text()).split(/\s+/)[0];
      // Invoke-WebRequest in Windows PowerShell asks for no compression.
      const download = await fetch(`${hub.url}/downloads/agent/${name}`, { headers: { 'accept-encoding': 'identity' } });
      expect(download.status).toBe(200);
      const actual = createHash('sha256').update(Buffer.from(await download.arrayBuffer())).digest('hex');
      expect(actual, name).toBe(expected);
    }
  });

  it('the Windows install command of an enrollment token runs the served install.ps1 with parameters it declares', async () => {
    const token = await hub.api('POST', '/api/v1/enrollment-tokens', { labels: {}, maxUses: 1 });
    expect(token.status, token.text).toBe(201);
    const command = token.body.installCommands.windows as string;
    const invocation = /\(irm (\S+)\)\)\) (.*?)"?$/.exec(command);
    expect(invocation?.[1]).toBe(`${PUBLIC_URL}/install.ps1`);
    expect(invocation?.[2]).toBe(`-Token ${token.body.token}`);
    const used = [...invocation![2]!.matchAll(/(?:^|\s)-(\w+)/g)].map((m) => m[1]!);
    expect(used.filter((name) => !declaredParameters(served).includes(name))).toEqual([]);
  });
});
