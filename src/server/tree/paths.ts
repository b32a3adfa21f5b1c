/** Path rules of org.apache.zookeeper.common.PathUtils and PrepRequestProcessor helpers. */

/**
 * PathUtils.validatePath: returns null when valid, else the reason (ZooKeeper's message).
 * Characters are checked as Java chars (UTF-16 units), so any surrogate (non-BMP character)
 * is invalid, as are U+0001-U+001F, U+007F-U+009F, U+D800-U+F8FF and U+FFF0-U+FFFF.
 */
export function pathError(path: string | null | undefined): string | null {
  if (path === null || path === undefined) return 'Path cannot be null';
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return null;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let lastc = 0x2f;
  for (let i = 1; i < path.length; lastc = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i);
    const next = i + 1 === path.length ? -1 : path.charCodeAt(i + 1);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && lastc === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && lastc === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && (next === -1 || next === 0x2f)) return `relative paths not allowed @${i}`;
    } else if (c === 0x2e) {
      if (path.charCodeAt(i - 1) === 0x2f && (next === -1 || next === 0x2f)) return `relative paths not allowed @${i}`;
    } else if (
      (c > 0 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character @${i}`;
    }
  }
  return null;
}

export function isValidPath(path: string): boolean {
  return pathError(path) === null;
}

/** PathUtils.validatePath(path, isSequential): a sequential prefix is checked with a "1" appended. */
export function isValidPathPrefix(path: string, isSequential: boolean): boolean {
  return pathError(isSequential ? `${path}1` : path) === null;
}

/** `path.substring(0, path.lastIndexOf('/'))`: "" for top-level nodes (the root's alias). */
export function parentOf(path: string): string {
  return path.substring(0, path.lastIndexOf('/'));
}

export function childName(path: string): string {
  return path.substring(path.lastIndexOf('/') + 1);
}

/** The path watches use for a parent: "" becomes "/". */
export function watchPathOfParent(path: string): string {
  const p = parentOf(path);
  return p === '' ? '/' : p;
}

/** String.format(Locale.ENGLISH, "%010d", n) for a Java int (sign counts toward the width). */
export function sequenceSuffix(n: number): string {
  if (n < 0) return `-${String(-n).padStart(9, '0')}`;
  return String(n).padStart(10, '0');
}

/** The four nodes DataTree.isSpecialPath protects from delete/deleteContainer. */
export function isSpecialPath(path: string): boolean {
  return path === '/' || path === '/zookeeper' || path === '/zookeeper/quota' || path === '/zookeeper/config';
}
