import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals secret env values for storage with AES-256-GCM under the hub's data key. Each value gets
 * a fresh IV, and its env name is bound in as associated data, so a sealed value moved to another
 * name (or tampered with) fails to open instead of reaching a command. Sealed form:
 * `v1:` + base64(iv ‖ tag ‖ ciphertext).
 */
export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the data key must be 32 bytes');
  }

  seal(plaintext: string, name: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
  }

  open(sealed: string, name: string): string {
    const [version, body] = sealed.split(':', 2);
    if (version !== VERSION || body === undefined) throw new SecretBoxError(name);
    const bytes = Buffer.from(body, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(name);
    }
  }
}

/** Names the variable, never the value; the usual cause is hubs started with different data keys. */
export class SecretBoxError extends Error {
  constructor(name: string) {
    super(`the secret env value ${name} cannot be opened with this hub's data key (do all hubs share HUB_DATA_KEY?)`);
  }
}
