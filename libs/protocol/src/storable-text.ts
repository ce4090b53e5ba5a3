/** A NUL, or a UTF-16 surrogate without its pair: neither survives PostgreSQL text or jsonb. */
const UNSTORABLE = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Text made storable by replacing what the database refuses with U+FFFD: for records of what was sent, never for data. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, '\ufffd');
}

export const UNSTORABLE_TEXT_MESSAGE = 'must be text without NUL bytes or unpaired UTF-16 surrogates';

/**
 * Paths (`a.b.0`) of strings, and of object keys, in an already validated value that the
 * database could not store. Checked once after validation, for every field at once, so a value
 * that would make an INSERT fail is refused as invalid instead. Walks plain objects and arrays
 * only, without recursion.
 */
export function unstorableTextPaths(value: unknown): string[] {
  const found: string[] = [];
  const pending: Array<{ value: unknown; at: PathStep | null }> = [{ value, at: null }];
  while (pending.length > 0) {
    const { value: current, at } = pending.pop()!;
    if (typeof current === 'string') {
      if (UNSTORABLE.test(current)) found.push(pathOf(at));
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => pending.push({ value: item, at: { key: String(index), parent: at } }));
    } else if (current !== null && typeof current === 'object' && Object.getPrototypeOf(current) === Object.prototype) {
      for (const [key, item] of Object.entries(current)) {
        const step = { key, parent: at };
        if (UNSTORABLE.test(key)) found.push(pathOf(step));
        else pending.push({ value: item, at: step });
      }
    }
  }
  return found;
}

/** Paths are built only for what is reported: a linked step per level keeps a deep walk linear. */
interface PathStep {
  key: string;
  parent: PathStep | null;
}

function pathOf(step: PathStep | null): string {
  const keys: string[] = [];
  for (let at = step; at; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
}
