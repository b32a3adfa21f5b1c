"""One process of kazoo Lock contenders for bench/herd.ts: the counterpart of bench/herd-worker.ts,
speaking the same JSON lines.

    /usr/bin/python3 bench/kazoo-herd-worker.py CONNECT PATH COUNT PREFIX

Each contender has its own KazooClient (session) and thread: acquire(), report `elected`, wait
for a resign command, release() and acquire() again at the back of the queue. A contender
reports `queued` when it first waits for its predecessor (node created, watch set) and `wake`
whenever its predecessor watch fires. `t` is CLOCK_MONOTONIC in ms, as in the Node worker.
"""
import json
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.recipe.lock import Lock

connect, path, count, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out_lock = threading.Lock()
stopping = threading.Event()


def mono_ms():
    return time.monotonic_ns() / 1e6


def say(**fields):
    line = json.dumps(fields)
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class WaitReporter:
    """Stands in for Lock.wake_event: the first wait() of an acquire attempt means 'queued'."""

    def __init__(self, inner, on_first_wait):
        self.inner = inner
        self.on_first_wait = on_first_wait
        self.armed = True

    def clear(self):
        self.inner.clear()

    def set(self):
        self.inner.set()

    def is_set(self):
        return self.inner.is_set()

    isSet = is_set

    def wait(self, timeout=None):
        if self.armed:
            self.armed = False
            self.on_first_wait()
        return self.inner.wait(timeout)


class CountingLock(Lock):
    def __init__(self, client, lock_path, ident):
        super().__init__(client, lock_path, ident)
        self.ident = ident
        self.wake_event = WaitReporter(self.wake_event, self.report_queued)

    def report_queued(self):
        say(ev="queued", id=self.ident, t=mono_ms(), session="%x" % self.client._session_id)

    def _watch_predecessor(self, event):
        say(ev="wake", id=self.ident, t=mono_ms(), path=event.path)
        super()._watch_predecessor(event)


class Contender:
    def __init__(self, ident):
        self.ident = ident
        self.client = KazooClient(hosts=connect, timeout=10.0)
        self.lock = None
        self.resign = threading.Event()

    def run(self):
        try:
            self.loop()
        except Exception as e:  # closing the clients at exit interrupts the waiters
            if not stopping.is_set():
                say(ev="error", id=self.ident, message=repr(e))

    def loop(self):
        while True:
            self.lock.wake_event.armed = True
            if not self.lock.acquire(timeout=600):
                say(ev="error", id=self.ident, message="no lock within 600 s")
                return
            say(ev="elected", id=self.ident, t=mono_ms())
            self.resign.wait()
            self.resign.clear()
            say(ev="resigning", id=self.ident, t=mono_ms())
            self.lock.release()


contenders = {}
# Connect in bounded waves, as the Node worker does.
idents = [f"{prefix}-{i}" for i in range(count)]
for i in range(0, count, 50):
    wave = [Contender(ident) for ident in idents[i : i + 50]]
    pending = [c.client.start_async() for c in wave]
    for c, ev in zip(wave, pending):
        ev.wait(60)
        if not c.client.connected:
            raise SystemExit(f"{c.ident}: no session within 60 s")
        c.lock = CountingLock(c.client, path, c.ident)
        contenders[c.ident] = c
say(ev="ready")

for line in sys.stdin:
    msg = json.loads(line)
    if msg["cmd"] == "join":
        for c in contenders.values():
            threading.Thread(target=c.run, daemon=True).start()
    elif msg["cmd"] == "resign":
        contenders[msg["id"]].resign.set()
    elif msg["cmd"] == "exit":
        break

stopping.set()
for c in contenders.values():
    try:
        c.client.stop()
        c.client.close()
    except Exception:
        pass
