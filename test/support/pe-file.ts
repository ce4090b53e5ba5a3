/**
 * Just enough of the PE/COFF format (Microsoft's "PE Format" specification) to check the Windows
 * artifacts we build without a Windows machine: headers, sections, the resource tree and the
 * .NET metadata's user strings. Offsets are the specification's; anything out of place throws.
 */

export const MACHINE = { i386: 0x14c, amd64: 0x8664 } as const;
export const OPTIONAL_MAGIC = { pe32: 0x10b, pe32Plus: 0x20b } as const;
export const SUBSYSTEM_WINDOWS_CUI = 3;
/** Data directory indexes. */
const RESOURCE_DIRECTORY = 2;
const SECURITY_DIRECTORY = 4;
const CLR_DIRECTORY = 14;
const METADATA_SIGNATURE = 0x424a5342; // "BSJB"

export interface PeSection {
  name: string;
  virtualAddress: number;
  virtualSize: number;
  rawOffset: number;
  rawSize: number;
}

/** One leaf of the resource tree: type, then name, then language, as Windows' FindResource walks it. */
export interface PeResource {
  type: number | string;
  name: number | string;
  language: number;
  data: Buffer;
}

export class PeFile {
  readonly machine: number;
  readonly optionalMagic: number;
  readonly subsystem: number;
  readonly sections: PeSection[];
  private readonly directories: Array<{ rva: number; size: number }>;

  constructor(private readonly bytes: Buffer) {
    if (bytes.length < 0x40 || bytes.toString('latin1', 0, 2) !== 'MZ') throw new Error('not a PE file: no MZ header');
    const pe = bytes.readUInt32LE(0x3c);
    if (bytes.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error(`not a PE file: no PE signature at e_lfanew 0x${pe.toString(16)}`);
    this.machine = bytes.readUInt16LE(pe + 4);
    const sectionCount = bytes.readUInt16LE(pe + 6);
    const optionalSize = bytes.readUInt16LE(pe + 20);
    const optional = pe + 24;
    this.optionalMagic = bytes.readUInt16LE(optional);
    if (this.optionalMagic !== OPTIONAL_MAGIC.pe32 && this.optionalMagic !== OPTIONAL_MAGIC.pe32Plus) {
      throw new Error(`unknown optional header magic 0x${this.optionalMagic.toString(16)}`);
    }
    this.subsystem = bytes.readUInt16LE(optional + 68);
    // PE32+ widens four fields before the data directories by 4 bytes each: 96 → 112.
    const directoriesAt = optional + (this.optionalMagic === OPTIONAL_MAGIC.pe32Plus ? 112 : 96);
    const directoryCount = bytes.readUInt32LE(directoriesAt - 4);
    this.directories = Array.from({ length: directoryCount }, (_, i) => ({
      rva: bytes.readUInt32LE(directoriesAt + i * 8),
      size: bytes.readUInt32LE(directoriesAt + i * 8 + 4),
    }));
    const sectionsAt = optional + optionalSize;
    this.sections = Array.from({ length: sectionCount }, (_, i) => {
      const at = sectionsAt + i * 40;
      return {
        name: bytes.toString('latin1', at, at + 8).replace(/\0+$/, ''),
        virtualSize: bytes.readUInt32LE(at + 8),
        virtualAddress: bytes.readUInt32LE(at + 12),
        rawSize: bytes.readUInt32LE(at + 16),
        rawOffset: bytes.readUInt32LE(at + 20),
      };
    });
  }

  /** Size of the Authenticode signature (the security directory); 0 when the file is unsigned. */
  get signatureSize(): number {
    return this.directories[SECURITY_DIRECTORY]?.size ?? 0;
  }

  /** The file offset of a relative virtual address. */
  offsetOf(rva: number): number {
    const section = this.sections.find((s) => rva >= s.virtualAddress && rva < s.virtualAddress + Math.max(s.virtualSize, s.rawSize));
    if (!section) throw new Error(`RVA 0x${rva.toString(16)} is in no section`);
    return section.rawOffset + (rva - section.virtualAddress);
  }

  /** Every resource, walked from the resource directory (three levels: type, name, language). */
  resources(): PeResource[] {
    const directory = this.directories[RESOURCE_DIRECTORY];
    if (!directory || directory.size === 0) return [];
    const root = this.offsetOf(directory.rva);
    const found: PeResource[] = [];
    const walk = (at: number, path: Array<number | string>): void => {
      const named = this.bytes.readUInt16LE(at + 12);
      const ids = this.bytes.readUInt16LE(at + 14);
      for (let i = 0; i < named + ids; i += 1) {
        const entry = at + 16 + i * 8;
        const nameField = this.bytes.readUInt32LE(entry);
        const target = this.bytes.readUInt32LE(entry + 4);
        // High bit set: the name is a counted UTF-16LE string at that offset from the root; else an ID.
        const key = nameField & 0x80000000 ? this.resourceString(root + (nameField & 0x7fffffff)) : nameField & 0xffff;
        const subdirectory = (target & 0x80000000) !== 0;
        if (path.length < 2) {
          if (!subdirectory) throw new Error(`resource ${[...path, key].join('/')} is a leaf above the language level`);
          walk(root + (target & 0x7fffffff), [...path, key]);
        } else {
          if (subdirectory || typeof key !== 'number') throw new Error(`resource ${[...path, key].join('/')} nests deeper than type/name/language`);
          const dataEntry = root + target;
          const start = this.offsetOf(this.bytes.readUInt32LE(dataEntry));
          const data = this.bytes.subarray(start, start + this.bytes.readUInt32LE(dataEntry + 4));
          found.push({ type: path[0]!, name: path[1]!, language: key, data });
        }
      }
    };
    walk(root, []);
    return found;
  }

  /**
   * The CLI header of a .NET assembly (ECMA-335 II.24): the runtime version it was built for and
   * the strings its code uses (the #US heap), or undefined for native code.
   */
  clrMetadata(): { runtimeVersion: string; userStrings: string[] } | undefined {
    const clr = this.directories[CLR_DIRECTORY];
    if (!clr || clr.size === 0) return undefined;
    const metadata = this.offsetOf(this.bytes.readUInt32LE(this.offsetOf(clr.rva) + 8));
    if (this.bytes.readUInt32LE(metadata) !== METADATA_SIGNATURE) throw new Error('CLI metadata without its BSJB signature');
    const versionLength = this.bytes.readUInt32LE(metadata + 12);
    const runtimeVersion = this.bytes.toString('latin1', metadata + 16, metadata + 16 + versionLength).replace(/\0+$/, '');
    const streamCount = this.bytes.readUInt16LE(metadata + 16 + versionLength + 2);
    let at = metadata + 16 + versionLength + 4;
    let userStrings: string[] = [];
    for (let i = 0; i < streamCount; i += 1) {
      const offset = this.bytes.readUInt32LE(at);
      const size = this.bytes.readUInt32LE(at + 4);
      const nameEnd = this.bytes.indexOf(0, at + 8);
      const name = this.bytes.toString('latin1', at + 8, nameEnd);
      if (name === '#US') userStrings = readUserStrings(this.bytes.subarray(metadata + offset, metadata + offset + size));
      at = (nameEnd + 4) & ~3; // the name, its NUL, padded to 4 bytes
    }
    return { runtimeVersion, userStrings };
  }

  private resourceString(at: number): string {
    const length = this.bytes.readUInt16LE(at);
    return this.bytes.toString('utf16le', at + 2, at + 2 + length * 2);
  }
}

/** The #US heap: blobs with a compressed length (ECMA-335 II.23.2), UTF-16LE plus one flag byte. */
function readUserStrings(heap: Buffer): string[] {
  const strings: string[] = [];
  let at = 1; // index 0 is the empty blob
  while (at < heap.length) {
    const first = heap[at]!;
    let length: number;
    if ((first & 0x80) === 0) {
      length = first;
      at += 1;
    } else if ((first & 0xc0) === 0x80) {
      length = ((first & 0x3f) << 8) | heap[at + 1]!;
      at += 2;
    } else {
      length = heap.readUInt32BE(at) & 0x1fffffff;
      at += 4;
    }
    if (length > 0) strings.push(heap.toString('utf16le', at, at + length - 1));
    at += length;
  }
  return strings;
}
