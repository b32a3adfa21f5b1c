// Against REAL Apache ZooKeeper started by the harness. Raw protocol bytes are
// written by hand (jute encoding) so the proxy is tested on real frames.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fourLetterWord, startZooKeeper, type ZkEnsemble, type ZkMember } from '../support/apache-zookeeper.js';
import { ZkTcpProxy } from '../support/tcp-proxy.js';
import { FrameSplitter, OpCode, readReplyHeader } from '../support/zk-frames.js';

// ---- minimal jute writer ----
const int32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b; };
const int64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigInt64BE(v); return b; };
const bool = (v: boolean) => Buffer.from([v ? 1 : 0]);
const ustring = (s: string) => { const u = Buffer.from(s, 'utf8'); return Buffer.concat([int32(u.length), u]); };
const buffer = (b: Buffer) => Buffer.concat([int32(b.length), b]);

const connectRequest = () =>
  Buffer.concat([int32(0), int64(0n), int32(4000), int64(0n), buffer(Buffer.alloc(16)), bool(false)]);
const ping = () => Buffer.concat([int32(-2), int32(OpCode.ping)]);
const createRequest = (xid: number, path: string, data: string) =>
  Buffer.concat([
    int32(xid), int32(OpCode.create), ustring(path), buffer(Buffer.from(data)),
    int32(1), int32(31), ustring('world'), ustring('anyone'), // ACL vector: world:anyone, ALL
    int32(0), // flags: persistent
  ]);
const pathRequest = (xid: number, opcode: number, path: string) =>
  Buffer.concat([int32(xid), int32(opcode), ustring(path), bool(false)]);

/** A raw ZooKeeper client connection with a frame queue. */
class RawConn {
  readonly frames: Buffer[] = [];
  readonly closed: Promise<void>;
  private waiter: (() => void) | undefined;
  private readonly splitter = new FrameSplitter();
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.splitter.push(chunk).map((f) => f.subarray(4)));
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.on('close', () => { resolve(); this.waiter?.(); }));
  }
  static async open(address: string): Promise<RawConn> {
    const [host, port] = address.split(':');
    const socket = net.connect({ host: host!, port: Number(port) });
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    return new RawConn(socket);
  }
  send(payload: Buffer): void {
    this.socket.write(Buffer.concat([int32(payload.length), payload]));
  }
  /** Next payload (no length prefix); rejects after timeoutMs or on close. */
  async next(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      if (this.socket.destroyed || this.socket.readableEnded) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await Promise.race([new Promise<void>((r) => (this.waiter = r)), sleep(left)]);
    }
    return this.frames.shift()!;
  }
  /** Sends ConnectRequest, parses ConnectResponse. */
  async handshake(): Promise<{ protocolVersion: number; timeOut: number; sessionId: bigint; passwdLength: number; payloadLength: number }> {
    this.send(connectRequest());
    const r = await this.next();
    return { protocolVersion: r.readInt32BE(0), timeOut: r.readInt32BE(4), sessionId: r.readBigInt64BE(8), passwdLength: r.readInt32BE(16), payloadLength: r.length };
  }
  close(): void {
    this.socket.destroy();
  }
}

const reply = (payload: Buffer) => readReplyHeader(Buffer.concat([int32(payload.length), payload]))!;

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('standalone ZooKeeper', { timeout: 120_000 }, () => {
  let zk: ZkEnsemble;
  before(async () => {
    zk = await startZooKeeper({ nodes: 1, controllable: true });
  });
  after(() => zk?.stop());

  test('answers ruok and srvr', async () => {
    assert.equal(zk.source === 'local' || zk.source === 'container', true);
    assert.equal(zk.members.length, 1);
    const m = zk.members[0]!;
    assert.equal(zk.connectString, m.address);
    assert.equal(m.running, true);
    assert.equal(await fourLetterWord(m.address, 'ruok'), 'imok');
    const srvr = await fourLetterWord(m.address, 'srvr');
    assert.match(srvr, /^Zookeeper version: 3\.8\./m);
    assert.match(srvr, /^Mode: standalone$/m);
    assert.equal(await m.mode(), 'standalone');
    assert.equal((await zk.leader())?.id, 1);
  });

  describe('through ZkTcpProxy', () => {
    let proxy: ZkTcpProxy;
    before(async () => {
      const [host, port] = zk.members[0]!.address.split(':');
      proxy = await ZkTcpProxy.start({ host: host!, port: Number(port) });
    });
    after(() => proxy?.close());

    test('relays a raw ConnectRequest/ConnectResponse and a ping', async (t) => {
      const c = await RawConn.open(proxy.address);
      t.after(() => c.close());
      const res = await c.handshake();
      assert.equal(res.protocolVersion, 0);
      assert.equal(res.timeOut, 4000); // within [1000, 60000], so granted as asked
      assert.notEqual(res.sessionId, 0n);
      assert.equal(res.passwdLength, 16);
      assert.equal(res.payloadLength, 37); // 4+4+8+(4+16)+1 readOnly
      await waitFor('proxy to count the pair', 2000, async () => (proxy.connections === 1 ? true : undefined));
      c.send(ping());
      const pong = reply(await c.next());
      assert.equal(pong.xid, -2);
      assert.equal(pong.err, 0);
    });

    test('blackhole makes an open connection go silent', async (t) => {
      const c = await RawConn.open(proxy.address);
      t.after(() => c.close());
      await c.handshake();
      proxy.blackhole(true);
      t.after(() => proxy.blackhole(false));
      c.send(ping());
      await assert.rejects(c.next(1500), /no frame within 1500 ms/);
      assert.equal(c.socket.destroyed, false);
      assert.equal(proxy.connections, 1);
      proxy.blackhole(false);
      proxy.cutAll();
      await c.closed;
      assert.equal(proxy.connections, 0);
    });

    test('refuse closes new connections at once; four-letter words still pass otherwise', async () => {
      proxy.refuse(true);
      const c = await RawConn.open(proxy.address);
      await c.closed;
      assert.equal(c.frames.length, 0);
      proxy.refuse(false);
      assert.equal(await fourLetterWord(proxy.address, 'ruok'), 'imok');
    });

    test('a frame length over 16 MiB cuts the pair', async () => {
      const c = await RawConn.open(proxy.address);
      c.socket.write(int32(16 * 1024 * 1024 + 1));
      await c.closed;
      assert.equal(c.frames.length, 0);
    });

    test('dropReplyOnce(create): node is created, reply never arrives, connection closed', async (t) => {
      const path = `/drop-reply-${process.pid}-${Date.now()}`;
      const c = await RawConn.open(proxy.address);
      t.after(() => c.close());
      await c.handshake();
      const dropped = proxy.dropReplyOnce(OpCode.create);
      c.send(createRequest(1, path, 'hello'));
      assert.deepEqual(await dropped, { xid: 1 });
      await c.closed;
      assert.equal(c.frames.length, 0, 'the create reply must have been swallowed');

      const direct = await RawConn.open(zk.members[0]!.address);
      t.after(() => direct.close());
      await direct.handshake();
      direct.send(pathRequest(1, OpCode.exists, path));
      const exists = await direct.next();
      assert.equal(reply(exists).xid, 1);
      assert.equal(reply(exists).err, 0); // -101 would be NONODE
      direct.send(pathRequest(2, OpCode.getData, path));
      const data = await direct.next();
      assert.equal(reply(data).err, 0);
      assert.equal(data.readInt32BE(16), 5);
      assert.equal(data.subarray(20, 25).toString(), 'hello');
      direct.send(pathRequest(3, OpCode.exists, `${path}-absent`));
      assert.equal(reply(await direct.next()).err, -101);
    });
  });
});

describe('3-node ensemble', { timeout: 180_000 }, () => {
  let zk: ZkEnsemble;
  before(async () => {
    zk = await startZooKeeper({ nodes: 3, controllable: true });
  });
  after(() => zk?.stop());

  const modes = () => Promise.all(zk.members.map((m) => m.mode()));

  test('has exactly one leader', async () => {
    assert.equal(zk.members.length, 3);
    assert.equal(zk.connectString.split(',').length, 3);
    const ms = await modes();
    assert.equal(ms.filter((m) => m === 'leader').length, 1, ms.join());
    assert.equal(ms.filter((m) => m === 'follower').length, 2, ms.join());
    const leader = await zk.leader();
    assert.equal(ms[zk.members.indexOf(leader!)], 'leader');
  });

  test('kill -9 of the leader: a new leader is elected, the old one rejoins', async () => {
    const old: ZkMember = (await zk.leader())!;
    const pid = old.pid!;
    assert.ok(pid > 0);
    await old.kill();
    assert.equal(old.running, false);
    assert.equal(old.pid, undefined);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.equal(await old.mode(), 'unknown');

    const t0 = Date.now();
    const next = await waitFor('a new leader', 20_000, async () => {
      const l = await zk.leader();
      return l && l !== old ? l : undefined;
    });
    assert.notEqual(next.id, old.id);
    assert.ok(Date.now() - t0 < 20_000);

    await old.start();
    assert.equal(old.running, true);
    assert.notEqual(old.pid, pid);
    assert.equal(await old.mode(), 'follower');
    const ms = await modes();
    assert.equal(ms.filter((m) => m === 'leader').length, 1, ms.join());
    assert.equal(ms.filter((m) => m === 'follower').length, 2, ms.join());
  });
});
