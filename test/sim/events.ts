/** Deterministic event queue: ordered by time, then by insertion. */
export interface QueuedEvent {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

export class EventQueue {
  private heap: QueuedEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, run: () => void): void {
    const e: QueuedEvent = { at, seq: this.seq++, run };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, h[p] as QueuedEvent)) break;
      h[i] = h[p] as QueuedEvent;
      i = p;
    }
    h[i] = e;
  }

  peekTime(): number | undefined {
    return this.heap[0]?.at;
  }

  pop(): QueuedEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mv = last;
      if (l < h.length && less(h[l] as QueuedEvent, mv)) {
        m = l;
        mv = h[l] as QueuedEvent;
      }
      if (r < h.length && less(h[r] as QueuedEvent, mv)) m = r;
      if (m === i) break;
      h[i] = h[m] as QueuedEvent;
      i = m;
    }
    h[i] = last;
    return top;
  }
}

function less(a: QueuedEvent, b: QueuedEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
