import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NetSocket, Network } from '../../src/server/net/network.js';
import { SimHost } from '../sim/io/host.js';
import { Scheduler } from '../sim/io/scheduler.js';
import type { SimClock } from '../sim/io/sim-clock.js';
import { SimNetwork } from '../sim/io/sim-net.js';

function world(seed: number, names = ['a', 'b'], maxSkewPpm = 100) {
  const sched = new Scheduler(seed);
  const net = new SimNetwork(sched);
  const hosts = names.map((n, i) => new SimHost(sched, n, `10.0.0.${i + 1}`, { maxSkewPpm }));
  for (const h of hosts) net.addHost(h);
  return { sched, net, hosts, a: hosts[0] as SimHost, b: hosts[1] as SimHost };
}

/** A socket with everything it sees recorded. */
function watch(s: NetSocket, log: string[] = []) {
  const w = { s, log, data: [] as Buffer[], connects: 0, closes: 0, text: () => Buffer.concat(w.data).toString() };
  s.onConnect(() => (w.connects++, log.push('connect')));
  s.onData((c) => (w.data.push(c), log.push(`data ${c.toString()}`)));
  s.onClose(() => (w.closes++, log.push('close')));
  return w;
}

async function serve(net: Network, ip: string, port: number) {
  const accepted: ReturnType<typeof watch>[] = [];
  const l = await net.listen(ip, port, (s) => accepted.push(watch(s)));
  return { l, accepted };
}

const sleep = (clock: SimClock, ms: number) => new Promise<void>((r) => clock.after(ms, r));

/** Production-style async code on both ends: awaits between reads, writes and timers. */
async function pingPongTrace(seed: number): Promise<{ trace: string[]; fp: number }> {
  const { sched, net, a, b } = world(seed);
  net.defaultProfile = { delayMinMs: 1, delayMaxMs: 30, longDelayP: 0.1, longDelayMs: 200, splitP: 0.3 };
  const trace: string[] = [];
  const at = (who: string, what: string) => trace.push(`${sched.now.toFixed(3)} ${who} ${what}`);
  const bc = b.clock();
  await net.forHost(b).listen('0.0.0.0', 2181, (s) => {
    let buf = '';
    s.onData((c) => {
      buf += c.toString();
      for (let i = buf.indexOf(';'); i >= 0; i = buf.indexOf(';')) {
        const msg = buf.slice(0, i);
        buf = buf.slice(i + 1);
        void (async () => {
          await sleep(bc, sched.rng.int(0, 20));
          await Promise.resolve();
          at('b', `reply ${msg}`);
          s.write(Buffer.from(`re:${msg};`));
        })();
      }
    });
  });
  const ac = a.clock();
  for (let k = 0; k < 3; k++) {
    void (async () => {
      const s = net.forHost(a).connect(b.ip, 2181);
      let wake: (() => void) | null = null;
      let buf = '';
      s.onData((c) => ((buf += c.toString()), wake?.()));
      await new Promise<void>((r) => s.onConnect(r));
      for (let i = 0; i < 10; i++) {
        await sleep(ac, sched.rng.int(1, 50));
        s.write(Buffer.from(`${k}.${i};`));
        while (!buf.includes(';')) await new Promise<void>((r) => (wake = r));
        at('a', `got ${buf.slice(0, buf.indexOf(';'))}`);
        buf = buf.slice(buf.indexOf(';') + 1);
      }
      s.end();
    })();
  }
  await sched.run({ untilMs: 60_000 });
  return { trace, fp: sched.fingerprint };
}

test('scheduler: time order, ties in insertion order, cancel, stop reasons, errors carry sim time', async () => {
  const s = new Scheduler(1);
  const seen: string[] = [];
  s.at(10, () => seen.push('x10'));
  s.at(5, () => seen.push('a5'));
  s.at(5, () => seen.push('b5'));
  s.at(7, () => seen.push('never')).cancel();
  s.after(20, () => s.after(0, () => seen.push('nested20')));
  assert.deepEqual(await s.run({ maxEvents: 2 }), { reason: 'maxEvents', events: 2 });
  assert.deepEqual(await s.run({ untilMs: 15 }), { reason: 'until', events: 1 });
  assert.equal(s.now, 15);
  assert.deepEqual(await s.run(), { reason: 'idle', events: 2 });
  assert.deepEqual(seen, ['a5', 'b5', 'x10', 'nested20']);
  assert.equal(s.eventsRun, 5);
  let n = 0;
  for (let i = 0; i < 10; i++) s.after(i, () => n++);
  assert.equal((await s.run({ stop: () => n === 3 })).reason, 'stop');
  s.after(1, () => {
    throw new Error('boom');
  });
  await assert.rejects(s.run(), /\[sim t=\d+ ms\] boom/);
  assert.throws(() => s.at(0, () => undefined), /before now/);
});

test('determinism: one seed replays async client/server code bit for bit; another seed differs', async () => {
  const one = await pingPongTrace(42);
  const again = await pingPongTrace(42);
  const other = await pingPongTrace(43);
  assert.equal(one.trace.length, 60);
  assert.deepEqual(again.trace, one.trace);
  assert.equal(again.fp, one.fp);
  assert.notDeepEqual(other.trace, one.trace);
  assert.notEqual(other.fp, one.fp);
});

test('streams stay FIFO under random, long and split delays', async () => {
  const { sched, net, a, b } = world(7);
  net.defaultProfile = { delayMinMs: 0, delayMaxMs: 80, longDelayP: 0.2, longDelayMs: 500, splitP: 0.5 };
  const { accepted } = await serve(net.forHost(b), b.ip, 9000);
  const c = watch(net.forHost(a).connect(b.ip, 9000));
  let sent = '';
  for (let i = 0; i < 300; i++) sched.at(i * 3, () => (c.s.write(Buffer.from(`<${i}>`)), (sent += `<${i}>`)));
  await sched.run();
  assert.equal(accepted[0]?.text(), sent);
  assert.ok((accepted[0]?.data.length ?? 0) > 300, 'some writes were split');
  assert.equal(accepted[0]?.s.remoteAddress, a.ip);
  assert.equal(c.s.remoteAddress, b.ip);
});

test('a partition holds data (and new dials time out); heal delivers it in order; block is one-way', async () => {
  const { sched, net, a, b } = world(3);
  const { accepted } = await serve(net.forHost(b), '0.0.0.0', 9000);
  const c = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run();
  const srv = accepted[0]!;
  net.partition([['a'], ['b']]);
  for (let i = 0; i < 20; i++) c.s.write(Buffer.from(`${i},`));
  srv.s.write(Buffer.from('back'));
  c.s.end();
  const dialAt = sched.now;
  const late = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run({ untilMs: sched.now + 10_000 });
  assert.equal(srv.data.length, 0);
  assert.equal(c.data.length, 0);
  assert.ok(c.s.queuedBytes > 0 && net.bytesInFlight() === c.s.queuedBytes + 4);
  assert.deepEqual([late.connects, late.closes], [0, 1]);
  const timeout = net.resets.find((r) => r.cause === 'timeout');
  assert.ok(timeout && timeout.atMs - dialAt >= 1000 && timeout.atMs - dialAt <= 3000);
  net.heal();
  await sched.run();
  assert.equal(srv.text(), Array.from({ length: 20 }, (_, i) => `${i},`).join(''));
  assert.equal(c.text(), 'back');
  assert.deepEqual([srv.closes, c.closes], [1, 1]);
  assert.equal(net.openConnections().length, 0);

  const c2 = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run();
  const srv2 = accepted[1]!;
  net.block('a', 'b');
  c2.s.write(Buffer.from('held'));
  srv2.s.write(Buffer.from('passes'));
  await sched.run({ untilMs: sched.now + 5000 });
  assert.deepEqual([srv2.text(), c2.text()], ['', 'passes']);
  net.unblock('a', 'b');
  await sched.run({ untilMs: sched.now + 5000 });
  assert.equal(srv2.text(), 'held');
});

test('resets: destroy, resetLink and graceful end each close both ends exactly once', async () => {
  const { sched, net, a, b } = world(5);
  net.defaultProfile = { delayMinMs: 5, delayMaxMs: 50, longDelayP: 0, longDelayMs: 0 };
  const { accepted } = await serve(net.forHost(b), b.ip, 9000);
  const dial = async () => {
    const w = watch(net.forHost(a).connect(b.ip, 9000));
    await sched.run();
    return w;
  };
  const [c1, c2, c3] = [await dial(), await dial(), await dial()];
  const [s1, s2, s3] = accepted as [ReturnType<typeof watch>, ReturnType<typeof watch>, ReturnType<typeof watch>];
  c1.s.write(Buffer.from('dropped'));
  c1.s.destroy();
  assert.equal(c1.closes, 0, 'onClose is never re-entrant');
  c3.s.write(Buffer.from('all of it'));
  c3.s.end();
  s3.s.write(Buffer.from('reply'));
  await sched.run();
  assert.deepEqual([c1.closes, s1.closes, s1.text()], [1, 1, '']);
  assert.deepEqual([c3.closes, s3.closes, s3.text(), c3.text()], [1, 1, 'all of it', 'reply']);
  assert.deepEqual([c2.closes, s2.closes], [0, 0]);
  net.resetLink('b', 'a');
  await sched.run();
  assert.deepEqual([c2.closes, s2.closes], [1, 1]);
  assert.deepEqual(net.resets.map((r) => `${r.cause}@${r.host}`), ['destroy@a', 'resetLink@a', 'resetLink@b']);
  assert.equal(net.connections().length, 0);
});

test('connection refused: no listener, or the host is down; listen errors name the address', async () => {
  const { sched, net, a, b } = world(9);
  const t0 = sched.now;
  const noListener = watch(net.forHost(a).connect(b.ip, 1234));
  await sched.run();
  assert.deepEqual([noListener.connects, noListener.closes], [0, 1]);
  assert.ok(sched.now - t0 <= 10);
  const bn = net.forHost(b);
  const l = await bn.listen('0.0.0.0', 9000, () => undefined);
  await assert.rejects(bn.listen(b.ip, 9000, () => undefined), /cannot listen on 10\.0\.0\.2:9000: EADDRINUSE/);
  await assert.rejects(bn.listen('10.9.9.9', 1, () => undefined), /10\.9\.9\.9:1: EADDRNOTAVAIL/);
  const any = await bn.listen('127.0.0.1', 0, () => undefined);
  assert.ok(any.port > 0 && any.port !== 9000);
  await l.close();
  await bn.listen(b.ip, 9000, () => undefined);
  b.crash();
  const down = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run();
  assert.deepEqual([down.connects, down.closes], [0, 1]);
  assert.deepEqual(net.resets.map((r) => r.cause), ['refused', 'refused']);
});

test('a crash resets the host sockets, drops its listeners and silences its timers', async () => {
  const { sched, net, a, b } = world(11);
  const fired: string[] = [];
  const bc = b.clock();
  const srvSide: ReturnType<typeof watch>[] = [];
  await net.forHost(b).listen(b.ip, 9000, (s) => srvSide.push(watch(s, fired)));
  bc.every(100, () => fired.push('tick'));
  bc.after(5000, () => fired.push('late timer'));
  const c = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run({ untilMs: 250 });
  b.crash();
  c.s.write(Buffer.from('to the dead'));
  const crashedAt = sched.now;
  await sched.run({ untilMs: 10_000 });
  assert.deepEqual(fired, ['tick', 'tick']);
  assert.equal(c.closes, 1);
  assert.equal(srvSide[0]?.closes, 0, 'the dead process hears nothing');
  assert.ok(net.resets.some((r) => r.cause === 'crash' && r.host === 'b' && r.atMs === crashedAt));
  bc.after(1, () => fired.push('stale clock'));
  b.start();
  await net.forHost(b).listen(b.ip, 9000, (s) => srvSide.push(watch(s, fired)));
  const again = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run();
  assert.equal(again.connects, 1);
  assert.deepEqual(fired, ['tick', 'tick']);
});

test('pause queues timers and data; resume replays timers (collapsed intervals) then data, in order', async () => {
  const { sched, net, a, b } = world(13, ['a', 'b'], 0);
  const log: string[] = [];
  const bc = b.clock();
  await net.forHost(b).listen(b.ip, 9000, (s) => watch(s, log));
  const c = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run({ untilMs: 50 });
  log.length = 0;
  bc.every(100, () => log.push(`every@${Math.round(sched.now)}`));
  bc.after(120, () => log.push('t120'));
  bc.after(130, () => log.push('t130'));
  const cancelled = bc.after(140, () => log.push('t140'));
  bc.after(135, () => cancelled.cancel());
  b.pause();
  for (const w of ['one', 'two', 'three']) c.s.write(Buffer.from(w));
  await sched.run({ untilMs: 1000 });
  assert.deepEqual(log, []);
  assert.equal(c.s.queuedBytes, 11);
  b.resume();
  await sched.run({ untilMs: 1001 });
  assert.deepEqual(log, ['every@1000', 't120', 't130', 'data one', 'data two', 'data three']);
  assert.equal(c.s.queuedBytes, 0);
  await sched.run({ untilMs: 1160 });
  assert.deepEqual(log.slice(6), ['every@1050', 'every@1150']);
});

test('clocks: wall jumps leave monoMs alone; hosts differ in origin and rate; timers use host time', async () => {
  const { sched, a, b } = world(17, ['a', 'b'], 100);
  const ac = a.clock();
  const bc = b.clock();
  assert.notEqual(ac.monoMs(), bc.monoMs());
  assert.notEqual(a.hw.skewPpm, b.hw.skewPpm);
  const [m0, w0] = [ac.monoMs(), ac.wallMs()];
  ac.jumpWall(-3_600_000);
  assert.equal(ac.monoMs(), m0);
  assert.ok(Math.abs(ac.wallMs() - (w0 - 3_600_000)) <= 1);
  const firedAt: number[] = [];
  for (const c of [ac, bc]) {
    const start = c.monoMs();
    c.after(10_000, () => {
      assert.ok(c.monoMs() - start >= 10_000);
      firedAt.push(sched.now);
    });
  }
  await sched.run();
  assert.equal(firedAt.length, 2);
  assert.notEqual(firedAt[0], firedAt[1]);
  assert.ok(firedAt.every((t) => Math.abs(t - 10_000) <= 1.001));
  assert.ok(ac.monoMs() > m0 && Number.isInteger(ac.wallMs()));
});

test('message chaos applies to the flagged ports only', async () => {
  const { sched, net, a, b } = world(19);
  net.setMessageChaos([2888], { loss: 0.2, dup: 0.2, reorder: 0.2 });
  const bn = net.forHost(b);
  const peer = await serve(bn, b.ip, 2888);
  const client = await serve(bn, b.ip, 2181);
  const cp = net.forHost(a).connect(b.ip, 2888);
  const cc = net.forHost(a).connect(b.ip, 2181);
  const expected: string[] = [];
  for (let i = 0; i < 200; i++) {
    expected.push(`m${i};`);
    sched.at(i, () => (cp.write(Buffer.from(`m${i};`)), cc.write(Buffer.from(`m${i};`))));
  }
  await sched.run();
  assert.equal(client.accepted[0]?.text(), expected.join(''));
  const units = peer.accepted[0]?.data.map(String) ?? [];
  assert.ok(units.every((u) => expected.includes(u)), 'each write arrives whole');
  assert.notDeepEqual(units, expected);
  assert.ok(units.length !== 200 || new Set(units).size !== 200);
});

test('backpressure: a paused reader holds deliveries, the writer sees queuedBytes grow, resume drains', async () => {
  const { sched, net, a, b } = world(23);
  const { accepted } = await serve(net.forHost(b), b.ip, 9000);
  const c = watch(net.forHost(a).connect(b.ip, 9000));
  await sched.run();
  const srv = accepted[0]!;
  srv.s.pause();
  for (let i = 0; i < 10; i++) c.s.write(Buffer.alloc(1000, i));
  await sched.run({ untilMs: sched.now + 5000 });
  assert.equal(srv.data.length, 0);
  assert.equal(c.s.queuedBytes, 10_000);
  assert.equal(net.connections()[0]?.bytesToServer, 10_000);
  srv.s.resume();
  await sched.run();
  assert.equal(c.s.queuedBytes, 0);
  assert.deepEqual(srv.data.map((d) => d[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('per-port filter: drops and holds units in both directions, other ports untouched; release sends held units behind later ones', async () => {
  const { sched, net, a, b } = world(29);
  const bn = net.forHost(b);
  const peer = await serve(bn, b.ip, 2888);
  const other = await serve(bn, b.ip, 2181);
  const seen: string[] = [];
  net.setFilter(2888, (from, to, bytes) => {
    const u = bytes.toString();
    seen.push(`${from}>${to} ${u}`);
    return u.startsWith('drop') ? 'drop' : u.startsWith('hold') ? 'hold' : 'deliver';
  });
  const cp = watch(net.forHost(a).connect(b.ip, 2888));
  const cc = net.forHost(a).connect(b.ip, 2181);
  // Written while dialling: screened when the connection opens, still one unit each.
  for (const u of ['m1;', 'drop1;', 'hold1;', 'm2;']) cp.s.write(Buffer.from(u));
  for (const u of ['drop1;', 'hold1;']) cc.write(Buffer.from(u));
  await sched.run();
  const srv = peer.accepted[0]!;
  srv.s.write(Buffer.from('hold-back;'));
  srv.s.write(Buffer.from('back;'));
  cp.s.write(Buffer.from('m3;'));
  await sched.run();
  assert.equal(srv.text(), 'm1;m2;m3;');
  assert.equal(cp.text(), 'back;');
  assert.equal(other.accepted[0]?.text(), 'drop1;hold1;', 'another port sees everything');
  assert.deepEqual(seen, ['a>b m1;', 'a>b drop1;', 'a>b hold1;', 'a>b m2;', 'b>a hold-back;', 'b>a back;', 'a>b m3;']);
  assert.deepEqual(net.held().map((h) => [h.from, h.to, h.port, h.bytes.toString()]), [['a', 'b', 2888, 'hold1;'], ['b', 'a', 2888, 'hold-back;']]);
  assert.equal(net.releaseHeld((h) => h.from === 'a'), 1);
  await sched.run();
  assert.equal(srv.text(), 'm1;m2;m3;hold1;', 'a released unit arrives behind what was written after it');
  net.setFilter(2888, null);
  cp.s.write(Buffer.from('drop2;'));
  await sched.run();
  assert.equal(srv.text(), 'm1;m2;m3;hold1;drop2;', 'no filter: everything goes');
  // A held unit whose sending end has closed is lost on release.
  srv.s.destroy();
  await sched.run();
  assert.equal(net.releaseHeld(), 0);
  assert.deepEqual(net.held(), []);
  assert.equal(cp.text(), 'back;');
});
