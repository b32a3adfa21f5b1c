/**
 * A connection's authInfo (ServerCnxn.addAuthInfo) and how ZooKeeper 3.8 lists it: the ids
 * addAuth and SASL add, in the order a ConcurrentHashMap-backed set iterates them.
 */
import type { Id } from '../../protocol/records.js';
import type { ClientConnection } from '../net/client-connection.js';
import { addAuthIds } from '../tree/acl.js';
import { javaStringHash } from '../tree/java-hash-set.js';

/**
 * The iteration order of a connection's authInfo in ZooKeeper 3.8: a ConcurrentHashMap-backed
 * set of Id. It shows in whoAmI and in how an "auth" ACL expands (fixupACL walks authInfo).
 * Id.hashCode() is 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(); the map spreads it
 * (h ^ h >>> 16) and keeps insertion order within a bin; its table starts at 16 bins and
 * doubles once it holds 3/4 of that (intra-bin order after such a resize is not modelled).
 */
function authInfoOrder(ids: readonly Id[]): Id[] {
  let bins = 16;
  while (ids.length >= bins - (bins >>> 2)) bins *= 2;
  const binOf = (id: Id) => {
    const h = (Math.imul(37, (Math.imul(37, 17) + javaStringHash(id.scheme)) | 0) + javaStringHash(id.id)) | 0;
    return ((h ^ (h >>> 16)) & 0x7fffffff) & (bins - 1);
  };
  return ids
    .map((id, i) => ({ id, i, bin: binOf(id) }))
    .sort((a, b) => a.bin - b.bin || a.i - b.i)
    .map(({ id }) => id);
}

/** ServerCnxn.addAuthInfo for each id not already present. */
export function addAuthInfo(conn: ClientConnection, ids: readonly Id[]): void {
  conn.authIds = authInfoOrder(addAuthIds(conn.authIds, ids));
}

/**
 * AuthUtil.getUser for whoAmI: the provider's user name (digest: before the ':'; ip and sasl:
 * the id itself); "" for a scheme without a provider (super).
 */
export function userName(id: Id): string {
  if (id.scheme === 'digest') return id.id.split(':')[0] ?? '';
  return id.scheme === 'ip' || id.scheme === 'sasl' ? id.id : '';
}
