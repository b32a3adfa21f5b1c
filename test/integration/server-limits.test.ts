/**
 * Bad input against zk-elect server over real sockets: per-IP connection limit, oversized
 * and negative frame lengths, garbage handshakes, unknown opcodes. Each bad connection is
 * closed; the server and its data are untouched.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { OpCode } from '../../src/protocol/constants.js';
import { FrameDecoder } from '../../src/protocol/framing.js';
import { encodeConnectRequest, encodeRequest } from '../../src/protocol/requests.js';
import { decodeConnectResponse, decodeReply } from '../../src/protocol/responses.js';
import { ZkSession } from '../../src/election/session.js';
import { fourLetterWord, type ZkEnsemble } from '../support/apache-zookeeper.js';
import { startZkElectServer } from '../support/zk-elect-server.js';

interface RawConn {
  socket: Socket;
  frames: Buffer[];
  closed: Promise<void>;
  isClosed(): boolean;
  next(timeoutMs?: number): Promise<Buffer>;
}

function open(port: number): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const decoder = new FrameDecoder({ fourLetterWords: false, maxFrame: 1 << 20 });
    const frames: Buffer[] = [];
    const waiters: Array<() => void> = [];
    let closedFlag = false;
    const closed = new Promise<void>((r) => socket.once('close', () => {
      closedFlag = true;
      r();
      waiters.splice(0).forEach((w) => w());
    }));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      for (const f of decoder.push(chunk)) if (f.kind === 'frame') frames.push(Buffer.from(f.payload));
      waiters.splice(0).forEach((w) => w());
    });
    socket.once('connect', () =>
      resolve({
        socket,
        frames,
        closed,
        isClosed: () => closedFlag,
        next: (timeoutMs = 3000) =>
          new Promise<Buffer>((res, rej) => {
            const t = setTimeout(() => rej(new Error('no frame')), timeoutMs);
            const check = () => {
              if (frames.length) {
                clearTimeout(t);
                res(frames.shift()!);
              } else if (closedFlag) {
                clearTimeout(t);
                rej(new Error('closed'));
              } else waiters.push(check);
            };
            check();
          }),
      }),
    );
    socket.once('error', reject);
  });
}

async function handshake(port: number): Promise<RawConn> {
  const c = await open(port);
  c.socket.write(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 4000, sessionId: 0n, passwd: Buffer.alloc(16), readOnly: false }));
  const res = decodeConnectResponse(await c.next());
  assert.ok(res.sessionId !== 0n, 'a session was created');
  return c;
}

const withinMs = (p: Promise<void>, ms: number, what: string) =>
  Promise.race([p, new Promise<void>((_, rej) => setTimeout(() => rej(new Error(`${what} not within ${ms} ms`)), ms))]);

describe('zk-elect server: limits and malformed input', () => {
  let zk: ZkEnsemble;
  let port: number;
  let admin: ZkSession;

  before(async () => {
    zk = await startZkElectServer({ serverArgs: ['--max-client-cnxns', '6', '--max-frame', '4096'] });
    port = zk.members[0]!.clientPort;
    admin = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
    await admin.create('/keep', Buffer.from('precious'), 'persistent');
  });
  after(async () => {
    await admin?.close();
    await zk?.stop();
  });

  async function assertUntouched(): Promise<void> {
    assert.equal(await fourLetterWord(zk.members[0]!.address, 'ruok'), 'imok');
    assert.equal((await admin.getData('/keep')).data.toString(), 'precious');
    assert.deepEqual((await admin.getChildren('/')).sort(), ['keep', 'zookeeper']);
  }

  test('a frame longer than --max-frame closes that connection only', async () => {
    const c = await handshake(port);
    const header = Buffer.alloc(4);
    header.writeInt32BE(4097);
    c.socket.write(header);
    await withinMs(c.closed, 3000, 'close');
    await assertUntouched();
  });

  test('a negative length and a garbage handshake close the connection', async () => {
    const neg = await open(port);
    neg.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]));
    await withinMs(neg.closed, 3000, 'close');
    const garbage = await open(port);
    const junk = Buffer.alloc(24, 0x41);
    junk.writeInt32BE(20, 0);
    garbage.socket.write(junk);
    await withinMs(garbage.closed, 3000, 'close');
    await assertUntouched();
  });

  test('a truncated request body gets MARSHALLINGERROR and the connection is closed', async () => {
    const c = await handshake(port);
    const good = encodeRequest({ kind: 'create', xid: 7, type: OpCode.create, body: { path: '/x', data: Buffer.from('d'), acl: [], flags: 0 } });
    const cut = Buffer.from(good.subarray(0, good.length - 6));
    cut.writeInt32BE(cut.length - 4, 0);
    c.socket.write(cut);
    const reply = decodeReply(await c.next(), OpCode.create);
    assert.equal(reply.header.xid, 7);
    assert.equal(reply.header.err, -5);
    await withinMs(c.closed, 3000, 'close');
    await assertUntouched();
  });

  test('an unknown opcode is answered UNIMPLEMENTED and the connection stays usable', async () => {
    const c = await handshake(port);
    c.socket.write(encodeRequest({ kind: 'unknown', xid: 3, type: 999, body: Buffer.alloc(0) }));
    const reply = decodeReply(await c.next(), 999);
    assert.deepEqual([reply.header.xid, reply.header.err], [3, -6]);
    c.socket.write(encodeRequest({ kind: 'exists', xid: 4, type: OpCode.exists, body: { path: '/keep', watch: false } }));
    const ok = decodeReply(await c.next(), OpCode.exists);
    assert.deepEqual([ok.header.xid, ok.header.err], [4, 0]);
    c.socket.destroy();
  });

  test('connections beyond --max-client-cnxns from one address are refused; the others keep working', async () => {
    // admin already holds one connection from 127.0.0.1.
    const conns: RawConn[] = [];
    for (let i = 0; i < 5; i++) conns.push(await handshake(port));
    const extra = await open(port);
    await withinMs(extra.closed, 3000, 'the 7th connection to be closed');
    for (const c of conns) assert.ok(!c.isClosed());
    conns[0]!.socket.write(encodeRequest({ kind: 'exists', xid: 9, type: OpCode.exists, body: { path: '/keep', watch: false } }));
    assert.equal(decodeReply(await conns[0]!.next(), OpCode.exists).header.err, 0, 'an admitted connection still works');
    // Four-letter words count against the limit too (as in ZooKeeper): free a slot first.
    for (const c of conns) c.socket.destroy();
    await Promise.all(conns.map((c) => c.closed));
    await new Promise((r) => setTimeout(r, 100));
    await assertUntouched();
  });
});
