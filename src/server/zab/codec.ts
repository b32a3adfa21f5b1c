/**
 * Pure binary codec for quorum messages: `[u8 version][u8 type][fields...]`, big-endian.
 * A zxid travels as two u32 (epoch, counter); ids, rounds, sessions, epochs and sequence numbers
 * as u32; buffers as u32 length + bytes, bounded. Decoding never throws anything but
 * ZabCodecError. A peer of another version is not understood at all (every message of it is
 * refused as malformed), so a mixed-version cluster never mixes wire formats.
 *
 * Version 3 (issue 9): SNAP travels as SNAPCHUNK messages of at most MAX_SNAP_CHUNK_BYTES each,
 * acknowledged by SNAPACK (type code 7, SNAP's before, is now SNAPCHUNK; SNAPACK is new), so no
 * message is larger than MAX_MESSAGE_BYTES, whatever the size of the tree.
 */
import { ZabCodecError } from './errors.js';
import type { MessageType, PeerState, ZabMessage } from './messages.js';
import { MAX_EPOCH, TWO_32 } from './zxid.js';

export const CODEC_VERSION = 3;
/** Upper bound of an opaque payload (a request, a reply, a proposal). */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Upper bound of the bytes of one SNAPCHUNK (the leader's chunk size is at most this). */
export const MAX_SNAP_CHUNK_BYTES = 1024 * 1024;
/** Upper bound of an encoded message: the largest bounded buffer plus its fixed fields. */
export const MAX_MESSAGE_BYTES = Math.max(MAX_PAYLOAD_BYTES, MAX_SNAP_CHUNK_BYTES) + 64;

const TYPES: readonly MessageType[] = [
  'notification', 'followerinfo', 'leaderinfo', 'ackepoch', 'diff', 'trunc', 'snapchunk', 'proposal',
  'commit', 'newleader', 'ack', 'uptodate', 'ping', 'pong', 'request', 'opaque', 'stale', 'snapack',
];
const TYPE_CODE = new Map<MessageType, number>(TYPES.map((t, i) => [t, i + 1]));
const STATES: readonly PeerState[] = ['looking', 'following', 'leading'];

class Writer {
  private readonly parts: Buffer[] = [];
  u8(v: number): void {
    const b = Buffer.allocUnsafe(1);
    b.writeUInt8(v);
    this.parts.push(b);
  }
  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v >= TWO_32) throw new RangeError(`u32 field out of range: ${v}`);
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
  }
  zxid(z: number): void {
    if (!Number.isInteger(z) || z < 0 || Math.floor(z / TWO_32) > MAX_EPOCH) throw new RangeError(`zxid out of range: ${z}`);
    this.u32(Math.floor(z / TWO_32));
    this.u32(z % TWO_32);
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  bytes(b: Buffer, max: number): void {
    if (b.length > max) throw new RangeError(`buffer of ${b.length} bytes exceeds ${max}`);
    this.u32(b.length);
    this.parts.push(b);
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

class Reader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  private need(n: number, what: string): void {
    if (this.off + n > this.buf.length) throw new ZabCodecError(`truncated message: ${what} needs ${n} bytes at offset ${this.off} of ${this.buf.length}`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.off++);
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  epoch(what: string): number {
    const e = this.u32(what);
    if (e > MAX_EPOCH) throw new ZabCodecError(`${what}: epoch ${e} exceeds ${MAX_EPOCH}`);
    return e;
  }
  zxid(what: string): number {
    const e = this.epoch(what);
    return e * TWO_32 + this.u32(what);
  }
  bool(what: string): boolean {
    const v = this.u8(what);
    if (v > 1) throw new ZabCodecError(`${what}: boolean byte ${v}`);
    return v === 1;
  }
  /** A copy, or with `view` the bytes of the input itself (for a field that is most of its message). */
  bytes(what: string, max: number, view = false): Buffer {
    const n = this.u32(what);
    if (n > max) throw new ZabCodecError(`${what}: length ${n} exceeds ${max}`);
    this.need(n, what);
    const at = this.buf.subarray(this.off, this.off + n);
    const b = view ? at : Buffer.from(at);
    this.off += n;
    return b;
  }
  end(): void {
    if (this.off !== this.buf.length) throw new ZabCodecError(`${this.buf.length - this.off} trailing bytes`);
  }
}

export function encodeMessage(m: ZabMessage): Buffer {
  const w = new Writer();
  w.u8(CODEC_VERSION);
  const code = TYPE_CODE.get(m.type);
  if (code === undefined) throw new RangeError(`unknown message type ${String((m as { type: unknown }).type)}`);
  w.u8(code);
  switch (m.type) {
    case 'notification':
      w.u8(STATES.indexOf(m.state));
      w.u32(m.leader);
      w.zxid(m.zxid);
      w.u32(m.peerEpoch);
      w.u32(m.round);
      break;
    case 'followerinfo':
      w.u32(m.attempt);
      w.u32(m.acceptedEpoch);
      w.zxid(m.lastZxid);
      break;
    case 'leaderinfo':
      w.u32(m.attempt);
      w.u32(m.epoch);
      w.u32(m.session);
      break;
    case 'ackepoch':
      w.u32(m.epoch);
      w.u32(m.session);
      w.u32(m.currentEpoch);
      w.zxid(m.lastZxid);
      w.bool(m.acceptedNow);
      break;
    case 'diff':
      w.u32(m.epoch);
      w.u32(m.session);
      break;
    case 'trunc':
    case 'commit':
    case 'newleader':
      w.u32(m.epoch);
      w.u32(m.session);
      w.zxid(m.zxid);
      break;
    case 'snapchunk':
      w.u32(m.epoch);
      w.u32(m.session);
      w.zxid(m.zxid);
      w.u32(m.seq);
      w.bool(m.last);
      w.bytes(m.bytes, MAX_SNAP_CHUNK_BYTES);
      break;
    case 'snapack':
      w.u32(m.epoch);
      w.u32(m.session);
      w.u32(m.seq);
      break;
    case 'proposal':
      w.u32(m.epoch);
      w.u32(m.session);
      w.zxid(m.prevZxid);
      w.zxid(m.zxid);
      w.bytes(m.payload, MAX_PAYLOAD_BYTES);
      break;
    case 'ack':
      w.u32(m.epoch);
      w.u32(m.session);
      w.zxid(m.zxid);
      w.bool(m.newLeader);
      break;
    case 'uptodate':
      w.u32(m.epoch);
      w.u32(m.session);
      w.zxid(m.commitZxid);
      break;
    case 'ping':
      w.u32(m.epoch);
      w.u32(m.session);
      w.zxid(m.commitZxid);
      w.zxid(m.lastZxid);
      w.bool(m.upToDate);
      w.u32(m.tick);
      // -1 (no grant) travels as 0, a grant of tick t as t + 1.
      w.u32(m.grant + 1);
      break;
    case 'pong':
      w.u32(m.epoch);
      w.u32(m.session);
      w.bool(m.synced);
      w.zxid(m.zxid);
      w.u32(m.pingTick);
      w.u32(m.tick);
      break;
    case 'request':
    case 'opaque':
      w.u32(m.epoch);
      w.bytes(m.payload, MAX_PAYLOAD_BYTES);
      break;
    case 'stale':
      w.u32(m.epoch);
      break;
  }
  return w.done();
}

/**
 * Decodes one message. Its fields are copies of `buf`, except a SNAPCHUNK's bytes, which are a
 * view of it (a chunk is nearly all of its message, and copying it copied the whole tree once
 * more on every SNAP): the caller must not reuse `buf`.
 */
export function decodeMessage(buf: Buffer): ZabMessage {
  if (!Buffer.isBuffer(buf)) throw new ZabCodecError('not a Buffer');
  const r = new Reader(buf);
  const version = r.u8('version');
  if (version !== CODEC_VERSION) throw new ZabCodecError(`unsupported codec version ${version}`);
  const code = r.u8('type');
  const type = TYPES[code - 1];
  if (type === undefined) throw new ZabCodecError(`unknown message type code ${code}`);
  let m: ZabMessage;
  switch (type) {
    case 'notification': {
      const s = r.u8('state');
      const state = STATES[s];
      if (state === undefined) throw new ZabCodecError(`unknown peer state ${s}`);
      m = { type, state, leader: r.u32('leader'), zxid: r.zxid('zxid'), peerEpoch: r.epoch('peerEpoch'), round: r.u32('round') };
      break;
    }
    case 'followerinfo':
      m = { type, attempt: r.u32('attempt'), acceptedEpoch: r.epoch('acceptedEpoch'), lastZxid: r.zxid('lastZxid') };
      break;
    case 'leaderinfo':
      m = { type, attempt: r.u32('attempt'), epoch: r.epoch('epoch'), session: r.u32('session') };
      break;
    case 'ackepoch':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), currentEpoch: r.epoch('currentEpoch'), lastZxid: r.zxid('lastZxid'), acceptedNow: r.bool('acceptedNow') };
      break;
    case 'diff':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session') };
      break;
    case 'trunc':
    case 'commit':
    case 'newleader':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), zxid: r.zxid('zxid') };
      break;
    case 'snapchunk':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), zxid: r.zxid('zxid'), seq: r.u32('seq'), last: r.bool('last'), bytes: r.bytes('chunk', MAX_SNAP_CHUNK_BYTES, true) };
      break;
    case 'snapack':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), seq: r.u32('seq') };
      break;
    case 'proposal':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), prevZxid: r.zxid('prevZxid'), zxid: r.zxid('zxid'), payload: r.bytes('payload', MAX_PAYLOAD_BYTES) };
      break;
    case 'ack':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), zxid: r.zxid('zxid'), newLeader: r.bool('newLeader') };
      break;
    case 'uptodate':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), commitZxid: r.zxid('commitZxid') };
      break;
    case 'ping':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), commitZxid: r.zxid('commitZxid'), lastZxid: r.zxid('lastZxid'), upToDate: r.bool('upToDate'), tick: r.u32('tick'), grant: r.u32('grant') - 1 };
      break;
    case 'pong':
      m = { type, epoch: r.epoch('epoch'), session: r.u32('session'), synced: r.bool('synced'), zxid: r.zxid('zxid'), pingTick: r.u32('pingTick'), tick: r.u32('tick') };
      break;
    case 'request':
    case 'opaque':
      m = { type, epoch: r.epoch('epoch'), payload: r.bytes('payload', MAX_PAYLOAD_BYTES) };
      break;
    case 'stale':
      m = { type, epoch: r.epoch('epoch') };
      break;
  }
  r.end();
  return m;
}
