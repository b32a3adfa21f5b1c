"""kazoo's Lock handoff, the yardstick for zk-elect's graceful handoff (bench/election-handoff.ts).

    /usr/bin/python3 bench/kazoo-handoff.py CONNECT PATH HANDOFFS [WARMUP]

Two KazooClient sessions contend for one kazoo Lock. The holder's thread calls release()
and at once re-enters acquire() (the counterpart of zk-elect's resign({ requeue: true }));
a handoff is timed from just before release() to the moment the waiter's acquire() returns.
Prints one JSON line: {"samples_ms": [...]} (warm-up handoffs excluded).
"""
import json
import queue
import sys
import threading
import time

from kazoo.client import KazooClient

connect, path, handoffs = sys.argv[1], sys.argv[2], int(sys.argv[3])
warmup = int(sys.argv[4]) if len(sys.argv) > 4 else 0

acquired = queue.Queue()  # (worker index, perf_counter at acquire() return)
released = queue.Queue()  # perf_counter just before release()
orders = [threading.Event(), threading.Event()]
stop = threading.Event()


def worker(i, lock):
    while not stop.is_set():
        if not lock.acquire(timeout=30):
            raise SystemExit(f"worker {i}: no lock within 30 s")
        acquired.put((i, time.perf_counter()))
        orders[i].wait()
        orders[i].clear()
        t0 = time.perf_counter()
        lock.release()
        released.put(t0)


clients = [KazooClient(hosts=connect, timeout=10.0) for _ in range(2)]
for c in clients:
    c.start(timeout=15)
locks = [c.Lock(path, f"k{i}") for i, c in enumerate(clients)]
threads = [threading.Thread(target=worker, args=(i, lock), daemon=True) for i, lock in enumerate(locks)]
threads[0].start()
holder, _ = acquired.get(timeout=30)
threads[1].start()

samples = []
for n in range(warmup + handoffs):
    # The waiter must be queued (its node created, predecessor watched) before we time anything.
    deadline = time.monotonic() + 10
    while len(clients[holder].get_children(path)) < 2:
        if time.monotonic() > deadline:
            raise SystemExit("the waiter never queued")
        time.sleep(0.0005)
    time.sleep(0.002)  # let the waiter reach wake_event.wait() after its get()
    orders[holder].set()
    nxt, t1 = acquired.get(timeout=30)
    t0 = released.get(timeout=30)
    if n >= warmup:
        samples.append((t1 - t0) * 1000.0)
    holder = nxt

stop.set()
print(json.dumps({"samples_ms": samples}), flush=True)
for c in clients:
    c.stop()
    c.close()
