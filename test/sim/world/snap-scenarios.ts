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
import { check, elapse, others, until } from './scenario-kit.js';
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
];
