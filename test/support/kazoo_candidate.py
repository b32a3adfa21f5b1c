"""A kazoo Election candidate for interop tests (Debian's python3-kazoo).

usage: kazoo_candidate.py HOSTS PATH ID

Prints one JSON object per line on stdout: {"event": "joined"|"elected"|"released"|"contenders", "ts": ms}.
Reads commands on stdin: "release" ends the leader function (kazoo then deletes its node and the
script exits), "contenders" prints the contenders as kazoo orders them.
"""
import json
import sys
import threading
import time

from kazoo.client import KazooClient


def say(event, **fields):
    fields.update(event=event, ts=int(time.time() * 1000))
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def main():
    hosts, path, ident = sys.argv[1:4]
    zk = KazooClient(hosts=hosts, timeout=10.0)
    zk.start(timeout=30)
    election = zk.Election(path, ident)
    release = threading.Event()

    def commands():
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "release":
                release.set()
            elif cmd == "contenders":
                say("contenders", ids=election.contenders())
        release.set()

    threading.Thread(target=commands, daemon=True).start()

    def lead():
        say("elected")
        release.wait()

    # Election.run blocks until elected; report when our node exists.
    def announce():
        for _ in range(200):
            children = zk.get_children(path) if zk.exists(path) else []
            if any(c.startswith(election.lock.prefix) for c in children):
                say("joined", node=[c for c in children if c.startswith(election.lock.prefix)][0])
                return
            time.sleep(0.02)

    threading.Thread(target=announce, daemon=True).start()
    election.run(lead)
    say("released")
    zk.stop()
    zk.close()


if __name__ == "__main__":
    main()
