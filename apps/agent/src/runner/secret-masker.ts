const MASK = Buffer.from('***');

/**
 * Replaces secret values in one output stream with `***` before the bytes leave the process.
 * A secret can arrive split across two writes, so a tail that could still grow into a secret is
 * held back (at most longest secret − 1 bytes) until more data or the end of the stream decides.
 */
export class SecretMasker {
  /** Longest first, so a secret that contains a shorter one is masked whole. */
  private readonly secrets: Buffer[];
  private held: Buffer = Buffer.alloc(0);

  constructor(values: Iterable<string>) {
    this.secrets = [...new Set(values)]
      .filter((value) => value.length > 0)
      .map((value) => Buffer.from(value, 'utf8'))
      .sort((a, b) => b.length - a.length);
  }

  /** Masks what can be decided now; the rest waits for the next write or `end()`. */
  write(data: Buffer): Buffer {
    if (this.secrets.length === 0) return data;
    const { masked, held } = this.mask(this.held.length > 0 ? Buffer.concat([this.held, data]) : data, false);
    this.held = held;
    return masked;
  }

  /** Releases whatever was held back: the stream is over, so a partial secret is just text. */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest.length === 0 ? rest : this.mask(rest, true).masked;
  }

  /** Masks a complete text (an error message, say), independent of any stream. */
  maskText(text: string): string {
    if (this.secrets.length === 0) return text;
    return this.mask(Buffer.from(text, 'utf8'), true).masked.toString('utf8');
  }

  private mask(data: Buffer, final: boolean): { masked: Buffer; held: Buffer } {
    const out: Buffer[] = [];
    let plainFrom = 0;
    let i = 0;
    scan: while (i < data.length) {
      for (const secret of this.secrets) {
        if (data[i] !== secret[0]) continue;
        const available = Math.min(secret.length, data.length - i);
        if (data.compare(secret, 0, available, i, i + available) !== 0) continue;
        if (available === secret.length) {
          out.push(data.subarray(plainFrom, i), MASK);
          i += secret.length;
          plainFrom = i;
          continue scan;
        }
        if (!final) {
          // The data ends inside what may be this secret: wait for the rest.
          out.push(data.subarray(plainFrom, i));
          return { masked: Buffer.concat(out), held: Buffer.from(data.subarray(i)) };
        }
      }
      i += 1;
    }
    out.push(data.subarray(plainFrom));
    return { masked: Buffer.concat(out), held: Buffer.alloc(0) };
  }
}
