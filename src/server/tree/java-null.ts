/**
 * Null strings from the wire. ZooKeeper's jute reads a length -1 string as null and passes it
 * on; where the server's Java dereferences it, the NullPointerException is caught by the
 * request processor and the client gets MARSHALLINGERROR (the connection stays open). The
 * pure state machine models exactly those points by throwing this, and the callers turn it
 * into the same answer.
 */
export class JavaNullPointer extends Error {
  override readonly name = 'JavaNullPointer';
  constructor(where: string) {
    super(`null dereferenced in ${where}`);
  }
}

/** A value Java dereferences at `where`: null there is ZooKeeper's NullPointerException. */
export function deref<T>(v: T | null, where: string): T {
  if (v === null) throw new JavaNullPointer(where);
  return v;
}
