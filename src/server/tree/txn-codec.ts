/**
 * Binary txn log records in ZooKeeper's own jute layout: TxnHeader {clientId, cxid, zxid, time,
 * type} followed by the txn record (CreateTxn, CreateTTLTxn, CreateContainerTxn, DeleteTxn,
 * SetDataTxn, SetACLTxn, CheckVersionTxn, ErrorTxn, MultiTxn{vector<Txn{type, buffer}>},
 * CreateSessionTxn, CloseSessionTxn).
 */
import { OpCode } from '../../protocol/constants.js';
import { JuteReader, JuteWriter } from '../../protocol/jute.js';
import type { ACL, Txn, TxnBody } from './types.js';

const MAX = 0x7fffffff;

export function writeAcl(w: JuteWriter, acl: readonly ACL[]): void {
  w.vector(acl, (ww, a) => {
    ww.int(a.perms);
    ww.ustring(a.id.scheme);
    ww.ustring(a.id.id);
  });
}

export function readAcl(r: JuteReader): ACL[] {
  return r.vector((rr) => {
    const perms = rr.int();
    const scheme = rr.string();
    const id = rr.string();
    return { perms, id: { scheme, id } };
  });
}

function writeBody(w: JuteWriter, b: TxnBody): void {
  switch (b.type) {
    case OpCode.create:
    case OpCode.create2:
      w.ustring(b.path).buffer(b.data);
      writeAcl(w, b.acl);
      w.bool(b.ephemeral).int(b.parentCVersion);
      return;
    case OpCode.createTTL:
      w.ustring(b.path).buffer(b.data);
      writeAcl(w, b.acl);
      w.int(b.parentCVersion).long(b.ttl);
      return;
    case OpCode.createContainer:
      w.ustring(b.path).buffer(b.data);
      writeAcl(w, b.acl);
      w.int(b.parentCVersion);
      return;
    case OpCode.delete:
    case OpCode.deleteContainer:
      w.ustring(b.path);
      return;
    case OpCode.setData:
      w.ustring(b.path).buffer(b.data).int(b.version);
      return;
    case OpCode.setACL:
      w.ustring(b.path);
      writeAcl(w, b.acl);
      w.int(b.version);
      return;
    case OpCode.check:
      w.ustring(b.path).int(b.version);
      return;
    case OpCode.error:
      w.int(b.err);
      return;
    case OpCode.multi:
      w.vector(b.txns, (ww, sub) => {
        const inner = new JuteWriter();
        writeBody(inner, sub);
        ww.int(sub.type).buffer(Buffer.from(inner.toBuffer()));
      });
      return;
    case OpCode.createSession:
      w.int(b.timeoutMs);
      return;
    case OpCode.closeSession:
      w.vector(b.paths2Delete, (ww, p) => ww.ustring(p));
      return;
  }
}

function readBody(r: JuteReader, type: number): TxnBody {
  switch (type) {
    case OpCode.create:
    case OpCode.create2: {
      const path = r.string();
      const data = r.buffer();
      const acl = readAcl(r);
      const ephemeral = r.bool();
      return { type, path, data, acl, ephemeral, parentCVersion: r.int() };
    }
    case OpCode.createTTL: {
      const path = r.string();
      const data = r.buffer();
      const acl = readAcl(r);
      const parentCVersion = r.int();
      return { type, path, data, acl, parentCVersion, ttl: r.long() };
    }
    case OpCode.createContainer: {
      const path = r.string();
      const data = r.buffer();
      const acl = readAcl(r);
      return { type, path, data, acl, parentCVersion: r.int() };
    }
    case OpCode.delete:
    case OpCode.deleteContainer:
      return { type, path: r.string() };
    case OpCode.setData: {
      const path = r.string();
      const data = r.buffer();
      return { type, path, data, version: r.int() };
    }
    case OpCode.setACL: {
      const path = r.string();
      const acl = readAcl(r);
      return { type, path, acl, version: r.int() };
    }
    case OpCode.check: {
      const path = r.string();
      return { type, path, version: r.int() };
    }
    case OpCode.error:
      return { type, err: r.int() };
    case OpCode.multi:
      return {
        type,
        txns: r.vector((rr) => {
          const subType = rr.int();
          const inner = new JuteReader(rr.bytes(), { maxLength: MAX });
          const sub = readBody(inner, subType);
          inner.end('multi sub-txn');
          return sub;
        }),
      };
    case OpCode.createSession:
      return { type, timeoutMs: r.int() };
    case OpCode.closeSession:
      return { type, paths2Delete: r.vector((rr) => rr.string()) };
    default:
      throw new RangeError(`unknown txn type ${type}`);
  }
}

export function writeTxn(w: JuteWriter, txn: Txn): void {
  w.long(txn.sessionId).int(txn.cxid).long(txn.zxid).long(txn.time).int(txn.body.type);
  writeBody(w, txn.body);
}

export function readTxn(r: JuteReader): Txn {
  const sessionId = r.long();
  const cxid = r.int();
  const zxid = r.long();
  const time = r.long();
  const type = r.int();
  return { sessionId, cxid, zxid, time, body: readBody(r, type) };
}

/** One txn as bytes (header + record), deterministic. */
export function encodeTxn(txn: Txn): Buffer {
  const w = new JuteWriter();
  writeTxn(w, txn);
  return Buffer.from(w.toBuffer());
}

/** Inverse of encodeTxn; throws ProtocolError/RangeError on malformed input. */
export function decodeTxn(buf: Buffer): Txn {
  const r = new JuteReader(buf, { maxLength: MAX });
  const txn = readTxn(r);
  r.end('txn');
  return txn;
}
