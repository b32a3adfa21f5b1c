/**
 * JSON output with 64-bit integers: a bigint is written as a bare JSON number with all its
 * digits (as ZooKeeper's Jackson output writes longs), which JSON.stringify cannot do.
 * Output is bounded: past `maxChars` it throws ResponseTooLargeError instead of building a
 * huge string.
 */

export class ResponseTooLargeError extends Error {
  override name = 'ResponseTooLargeError';
}

export const DEFAULT_MAX_RESPONSE_CHARS = 8 * 1024 * 1024;

export function toJson(value: unknown, options: { indent?: number; maxChars?: number } = {}): string {
  const indent = options.indent ?? 2;
  const max = options.maxChars ?? DEFAULT_MAX_RESPONSE_CHARS;
  const parts: string[] = [];
  let size = 0;
  const push = (s: string) => {
    size += s.length;
    if (size > max) throw new ResponseTooLargeError(`the response would exceed ${max} characters`);
    parts.push(s);
  };
  const seen = new Set<object>();
  const write = (v: unknown, depth: number): void => {
    const nl = indent > 0 ? '\n' + ' '.repeat(indent * (depth + 1)) : '';
    const close = indent > 0 ? '\n' + ' '.repeat(indent * depth) : '';
    const colon = indent > 0 ? ': ' : ':';
    if (v === null || v === undefined) return push('null');
    switch (typeof v) {
      case 'boolean':
        return push(v ? 'true' : 'false');
      case 'number':
        return push(Number.isFinite(v) ? String(v) : 'null');
      case 'bigint':
        return push(v.toString());
      case 'string':
        return push(JSON.stringify(v));
      case 'object':
        break;
      default:
        return push('null');
    }
    const obj = v as object;
    if (seen.has(obj)) throw new TypeError('cyclic value in a JSON response');
    seen.add(obj);
    if (Array.isArray(obj) || obj instanceof Set) {
      const items = [...(obj as Iterable<unknown>)];
      if (items.length === 0) push('[]');
      else {
        push('[');
        items.forEach((item, i) => {
          push((i > 0 ? ',' : '') + nl);
          write(item, depth + 1);
        });
        push(close + ']');
      }
    } else {
      const entries: Array<[string, unknown]> = obj instanceof Map ? [...obj].map(([k, x]) => [String(k), x]) : Object.entries(obj);
      const present = entries.filter(([, x]) => x !== undefined);
      if (present.length === 0) push('{}');
      else {
        push('{');
        present.forEach(([k, x], i) => {
          push((i > 0 ? ',' : '') + nl + JSON.stringify(k) + colon);
          write(x, depth + 1);
        });
        push(close + '}');
      }
    }
    seen.delete(obj);
  };
  write(value, 0);
  return parts.join('');
}

export const hex = (n: bigint | number): string => `0x${n.toString(16)}`;
