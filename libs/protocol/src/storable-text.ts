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
 * only, without recursion. Only containers are queued and strings are tested where they are met:
 * every agent message passes here, and a step per field was most of what it allocated.
 */
export function unstorableTextPaths(value: unknown): string[] {
  const found: string[] = [];
  const pending: Array<{ value: object; at: PathStep | null }> = [];
  const check = (item: unknown, key: string | number, at: PathStep | null): void => {
    if (typeof item === 'string') {
      if (UNSTORABLE.test(item)) found.push(pathOf({ key, parent: at }));
    } else if (isContainer(item)) {
      pending.push({ value: item, at: { key, parent: at } });
    }
  };
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value)) found.push(pathOf(null));
  } else if (isContainer(value)) {
    pending.push({ value, at: null });
  }
  while (pending.length > 0) {
    const { value: current, at } = pending.pop()!;
    if (Array.isArray(current)) {
      current.forEach((item, index) => check(item, index, at));
      continue;
    }
    const record = current as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (UNSTORABLE.test(key)) found.push(pathOf({ key, parent: at }));
      else check(record[key], key, at);
    }
  }
  return found;
}

function isContainer(value: unknown): value is object {
  return Array.isArray(value) || (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype);
}

/** Paths are built only for what is reported: a linked step per level keeps a deep walk linear. */
interface PathStep {
  key: string | number;
  parent: PathStep | null;
}

function pathOf(step: PathStep | null): string {
  const keys: string[] = [];
  for (let at = step; at; at = at.parent) keys.push(String(at.key));
  return keys.reverse().join('.');
}
