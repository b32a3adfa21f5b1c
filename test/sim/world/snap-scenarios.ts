/**
 * SNAP as a stream (issue 9): a follower that missed more than the leader's log holds catches up
 * from bounded SNAPCHUNKs under flow control, while the leader keeps committing; whatever breaks
 * a stream (a lost, reordered or duplicated chunk, the leader crashing mid-stream) costs a clean
 * resync, never a partial or mixed install.
 *
 * Observed from outside the nodes: the peer-link messages (the tap), client replies, files, and
 * each node's applied state; the common ending of zk-bug-kit checks that every server ends with
 * the same tree holding every acknowledged and every committed create.
 */
import { formatZxid, type ZabMessage } from '../../../src/server/zab/index.js';
import { check, elapse, others, settle, until } from './scenario-kit.js';
import type { Scenario } from './scenarios.js';
import { BugRun } from './zk-bug-kit.js';
import { QUORUM_PORT } from './world.js';

type Chunk = Extract<ZabMessage, { type: 'snapchunk' }>;

/** Small chunks and a window of four of them, so a tree of a few hundred znodes takes dozens. */
const CHUNK_BYTES = 512;
const WINDOW_BYTES = 4 * CHUNK_BYTES;

/** Every SNAP stream seen on the wire, by (sender, receiver, epoch, session), in the order they began. */
interface Stream {
  readonly from: number;
  readonly to: number;
  readonly key: string;
  readonly zxid: number;
  chunks: number;
  bytes: number;
  maxSeq: number;
  ended: boolean;
  /** Bytes sent and not acknowledged (as far as the follower's sent acks tell), at most. */
  maxInFlight: number;
  readonly sizes: Map<number, number>;
  acked: number;
}

export const SNAP_SCENARIOS: readonly Scenario[] = [
  {
    name: 'snap-stream-catch-up',
    about:
      'a follower that missed 200 writes catches up by SNAP in dozens of flow-controlled chunks while the leader keeps committing; a lost, a reordered and duplicated chunks each cost a clean resync, the leader crashes mid-stream and the next leader streams it again',
    run: async (seed) => {
      const r = await BugRun.formed({ seed, nodes: 3, server: { snapCount: 20, snapChunkBytes: CHUNK_BYTES, snapWindowBytes: WINDOW_BYTES } });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const writer = await r.client([l, b], 'writer');
      w.crashServer(c);
      await r.writes(writer, 'missed', 200);
      // Snapshots every 20 txns compacted the leader's log far past c's last zxid: c needs a SNAP.
      await elapse(w, 2 * w.tickMs);

      const streams: Stream[] = [];
      const byKey = new Map<string, Stream>();
      const keyOf = (from: number, to: number, m: { epoch: number; session: number }) => `${from}>${to}@${m.epoch}/${m.session}`;
      // The wire, as sent: chunks and the follower's acks, per stream.
      r.tap.watch(({ from, to, msg: m }) => {
        if (m.type === 'snapchunk') {
          const key = keyOf(from, to, m);
          let s = byKey.get(key);
          if (s === undefined) {
            s = { from, to, key, zxid: m.zxid, chunks: 0, bytes: 0, maxSeq: -1, ended: false, maxInFlight: 0, sizes: new Map(), acked: -1 };
            byKey.set(key, s);
            streams.push(s);
          }
          check(m.zxid === s.zxid, `stream ${key} carries chunks of two images (${formatZxid(s.zxid)} and ${formatZxid(m.zxid)})`);
          check(m.bytes.length <= CHUNK_BYTES, `a chunk of ${m.bytes.length} bytes exceeds the ${CHUNK_BYTES}-byte chunk size`);
          if (!s.sizes.has(m.seq)) {
            s.sizes.set(m.seq, m.bytes.length);
            s.chunks++;
            s.bytes += m.bytes.length;
          }
          s.maxSeq = Math.max(s.maxSeq, m.seq);
          s.ended ||= m.last;
          let inFlight = 0;
          for (const [seq, n] of s.sizes) if (seq > s.acked) inFlight += n;
          s.maxInFlight = Math.max(s.maxInFlight, inFlight);
        } else if (m.type === 'snapack') {
          const s = byKey.get(keyOf(to, from, m));
          if (s !== undefined) s.acked = Math.max(s.acked, m.seq);
        }
      });
      const fromTo = (from: number, to: number) => streams.filter((s) => s.from === from && s.to === to);
      // Stream 1 loses its chunk 3; stream 2 has its chunk 2 held back (it arrives after 3).
      r.tap.rule((from, to, m) => {
        if (from !== l || to !== c || m.type !== 'snapchunk') return undefined;
        const i = fromTo(l, c).findIndex((s) => s.key === keyOf(from, to, m));
        const index = i < 0 ? fromTo(l, c).length : i;
        if (index === 0 && m.seq === 3) return 'drop';
        if (index === 1 && m.seq === 2) return 'hold';
        return undefined;
      });

      // The leader keeps committing all along, through whichever server serves.
      let writing = true;
      let live = 0;
      const ackedAt: number[] = [];
      void (async () => {
        while (writing) {
          const res = await r.create(writer, `/live${live++}`);
          if (res.err === 0) ackedAt.push(w.sched.now);
          else await new Promise<void>((done) => writer.clock.after(20, done));
        }
      })();

      w.startServer(c);
      await until(w, () => fromTo(l, c).length >= 2 && (fromTo(l, c)[1]?.maxSeq ?? -1) >= 3, 10_000, 'a second stream to reach chunk 3');
      r.tap.release(); // chunk 2 of the second stream, now behind chunk 3
      await until(w, () => fromTo(l, c).length >= 3, 10_000, 'a third stream');
      // Duplicates on every quorum link from now on (no loss, no reordering).
      w.net.setMessageChaos([QUORUM_PORT], { loss: 0, dup: 0.3, reorder: 0 });
      const third = fromTo(l, c)[2]!;
      await until(w, () => third.maxSeq >= 12, 10_000, 'the third stream to reach chunk 12');
      const streamedFromFirstLeader = fromTo(l, c).map((s) => s.chunks);
      const committedDuringStreams = ackedAt.length;
      w.note(`crash the leader s${l} in the middle of a SNAP to s${c}`);
      w.crashServer(l);
      // An install that fails (a chunk missing or doubled makes the image unreadable) stops the server.
      const exits = () => w.log.filter((x) => x.includes('exited after'));
      await until(w, () => (w.converged() && w.running().length === 2) || exits().length > 0, 20_000, `s${b} and s${c} to form an epoch`);
      check(exits().length === 0, `a server stopped itself: ${exits().join('; ')}`);
      w.net.setMessageChaos([QUORUM_PORT], null);
      writing = false;
      for (const s of streams) check(s.maxInFlight <= WINDOW_BYTES, `stream ${s.key} had ${s.maxInFlight} bytes in flight, beyond the ${WINDOW_BYTES}-byte window`);
      await elapse(w, 200);
      await r.finish();

      // What the wire shows.
      const first = fromTo(l, c);
      check(first.length >= 3, `s${l} began ${first.length} SNAP streams to s${c}, expected at least 3 (lost chunk, reordered chunk, crash)`);
      check(first.slice(0, 3).every((s) => !s.ended), `a broken stream of s${l} reached its last chunk: ${first.map((s) => `${s.chunks}${s.ended ? ' (ended)' : ''}`).join(', ')}`);
      const second = fromTo(b, c).filter((s) => s.ended);
      check(second.length >= 1, `s${c} never received a whole SNAP from the next leader s${b}`);
      const whole = second.at(-1)!;
      check(whole.chunks >= 20, `the SNAP took only ${whole.chunks} chunks: the scenario needs a tree of many`);
      check(committedDuringStreams > 0, 'the leader committed nothing while it streamed');
      w.note(`streams from s${l}: ${streamedFromFirstLeader.join(', ')} chunks; from s${b}: ${whole.chunks} chunks, ${whole.bytes} bytes; ${committedDuringStreams} writes meanwhile`);
    },
  },
  {
    name: 'snap-stream-images-released',
    about:
      "the leader's tree image for a SNAP is released however the stream ends (the follower crashes or goes silent mid-stream, the leader steps down mid-stream, the stream completes): an open image would keep every free deferred for good",
    run: async (seed) => {
      // initLimit 30 ticks: the follower keeps waiting for its stalled stream well past the
      // leader's lease, so the leader's stepping down is what ends the second stream.
      const r = await BugRun.formed({ seed, nodes: 3, initLimit: 30, server: { snapCount: 20, snapChunkBytes: CHUNK_BYTES, snapWindowBytes: WINDOW_BYTES } });
      const { w } = r;
      const l = w.leader()!;
      const [b, c] = others(w, l) as [number, number];
      const tree = (id: number) => w.slot(id).node!.stateView().tree;
      const released = (id: number) => tree(id).images.length === 0 && tree(id).deferredFrees === 0;
      const writer = await r.client([l, b], 'writer');
      w.crashServer(c);
      await r.writes(writer, 'missed', 120);
      await elapse(w, 2 * w.tickMs);
      check(released(l), `s${l} holds ${tree(l).images.length} images before any SNAP`);

      // Every stream from l to c stalls at chunk 4 (held, not lost), so none can finish until the end.
      const chunks = r.tap.record(['snapchunk']);
      const toC = () => chunks.filter((x) => x.from === l && x.to === c).map((x) => x.msg as Chunk);
      const streamsToC = () => [...new Set(toC().map((m) => `${m.epoch}/${m.session}`))];
      /** The n-th stream from l to c reached its stall. */
      const stalled = (n: number) => {
        const key = streamsToC()[n - 1];
        return key !== undefined && toC().some((m) => `${m.epoch}/${m.session}` === key && m.seq >= 4);
      };
      r.tap.rule((from, to, m) => (from === l && to === c && m.type === 'snapchunk' && m.seq >= 4 ? 'hold' : undefined));

      // 1. The follower is lost mid-stream.
      w.startServer(c);
      await until(w, () => stalled(1), 10_000, `a SNAP stream from s${l} to s${c}`);
      check(tree(l).images.length >= 1, `s${l} streams a SNAP with no image open`);
      // Values replaced while the image is open: their old bytes wait for it.
      for (let i = 0; i < 10; i++) check((await settle(w, writer.setData(`/missed${i}`, Buffer.alloc(64, i)), 5_000, 'setData')).err === 0, `setData /missed${i}`);
      check(tree(l).deferredFrees > 0, `s${l} freed the old values of znodes its open image still has to send`);
      w.note(`crash s${c} in the middle of its SNAP`);
      w.crashServer(c);
      await until(w, () => released(l), 10_000, `s${l} to release the image of the SNAP to the crashed s${c} (${tree(l).images.length} open, ${tree(l).deferredFrees} frees deferred)`);

      // 2. The follower goes silent mid-stream (paused: its connection stays up); the leader gives
      // up on it after initLimit ticks without a word.
      w.startServer(c);
      await until(w, () => stalled(2), 10_000, `a second SNAP stream from s${l} to s${c}`);
      check(tree(l).images.length >= 1, `s${l} has no image open for its second stream to s${c}`);
      w.note(`pause s${c} in the middle of its SNAP`);
      w.pauseServer(c);
      await until(w, () => released(l), 10_000, `s${l} to release the image of the SNAP to the silent s${c} (${tree(l).images.length} open, ${tree(l).deferredFrees} frees deferred)`);
      w.crashServer(c);

      // 3. The leader steps down mid-stream: cut off from b, it loses its quorum while c (still
      // syncing, so not counted) keeps receiving the stream.
      w.startServer(c);
      await until(w, () => stalled(3), 10_000, `a third SNAP stream from s${l} to s${c}`);
      for (let i = 10; i < 20; i++) check((await settle(w, writer.setData(`/missed${i}`, Buffer.alloc(64, i)), 5_000, 'setData')).err === 0, `setData /missed${i}`);
      check(tree(l).images.length >= 1 && tree(l).deferredFrees > 0, `s${l} has no image open for its third stream to s${c}`);
      w.note(`cut s${l} off from s${b} in the middle of a SNAP to s${c}`);
      w.net.partition([[`s${l}`, `s${c}`], [`s${b}`]]);
      let endedBeforeStepDown = false;
      await until(
        w,
        () => {
          const leading = w.slot(l).node!.mode() === 'leader';
          if (leading && tree(l).images.length === 0) endedBeforeStepDown = true;
          return !leading;
        },
        10_000,
        `s${l} to step down`,
      );
      check(!endedBeforeStepDown, `the stream to s${c} ended before s${l} stepped down: this run did not test stepping down`);
      check(released(l), `s${l} stepped down holding ${tree(l).images.length} images and ${tree(l).deferredFrees} deferred frees`);

      // 4. The stream completes: held chunks go, rules go, the cluster converges and c is synced by SNAP.
      await r.finish();
      await until(w, () => w.running().every((x) => released(x.id)), 5_000, `every server to release its images (${w.running().map((x) => `s${x.id}: ${tree(x.id).images.length}/${tree(x.id).deferredFrees}`).join(', ')})`);
      const ended = chunks.filter((x) => x.to === c && (x.msg as Chunk).last);
      check(ended.length >= 1, `s${c} never received the last chunk of a SNAP`);
      w.note(`${streamsToC().length} streams from s${l} to s${c}; ${ended.length} completed`);
    },
  },
];

