"""kazoo (python3-kazoo 2.8) as a real client for the tests: one subcommand per check, a JSON
line of results on stdout. Every wait is bounded; errors are reported by class name, so a test
compares what kazoo saw on Apache ZooKeeper and on zk-elect's server.

  probe.py creator-acl HOSTS PATH USER:PASS
  probe.py sasl HOSTS PATH USER PASS
  probe.py reconfig HOSTS
"""
import json
import logging
import sys

from kazoo.client import KazooClient
from kazoo.protocol.states import KeeperState
from kazoo.security import CREATOR_ALL_ACL

logging.basicConfig(level=logging.CRITICAL)
# Generous: the machines these run on are shared and often loaded.
TIMEOUT = 20


def err(e):
    return type(e).__name__


def connect(hosts, **kw):
    zk = KazooClient(hosts=hosts, timeout=TIMEOUT, connection_retry={'max_tries': 1}, **kw)
    # kazoo signals CONNECTED before its SASL exchange; when the server refuses the login before
    # start() looks, start() finds the client no longer connected, closes it and raises its
    # timeout error at once. The states the connection went through tell a refused login apart.
    states = []
    session_callback = zk._session_callback

    def record(state):
        states.append(state)
        return session_callback(state)

    zk._session_callback = record
    try:
        zk.start(timeout=2 * TIMEOUT)
    except Exception as e:  # noqa: BLE001 - the class name is the result
        refused = KeeperState.AUTH_FAILED in states
        zk.stop()
        zk.close()
        return None, 'AuthFailedError' if refused else err(e)
    return zk, 'OK'


def acl_list(acls):
    return [{'perms': a.perms, 'scheme': a.id.scheme, 'id': a.id.id} for a in acls]


def stranger_get(hosts, path, out):
    """Reads `path` from a session without any login; records the outcome as out['stranger_get']."""
    stranger, _ = connect(hosts)
    if stranger is None:
        return
    try:
        stranger.get(path)
        out['stranger_get'] = 'OK'
    except Exception as e:  # noqa: BLE001
        out['stranger_get'] = err(e)
    finally:
        stranger.stop()
        stranger.close()


def creator_acl(hosts, path, user_pass):
    out = {}
    zk, out['connect'] = connect(hosts)
    if zk is None:
        return out
    try:
        zk.add_auth('digest', user_pass)
        out['add_auth'] = 'OK'
        out['create'] = zk.create(path, b'v', acl=CREATOR_ALL_ACL)
        acls, _ = zk.get_acls(path)
        out['acl'] = acl_list(acls)
        out['get'] = zk.get(path)[0].decode()
    except Exception as e:  # noqa: BLE001
        out['error'] = err(e)
    finally:
        zk.stop()
        zk.close()
    stranger_get(hosts, path, out)
    return out


def sasl(hosts, path, user, password):
    out = {}
    options = {'mechanism': 'DIGEST-MD5', 'username': user, 'password': password}
    zk, out['connect'] = connect(hosts, sasl_options=options)
    if zk is None:
        return out
    try:
        out['create'] = zk.create(path, b'v', acl=CREATOR_ALL_ACL)
        acls, _ = zk.get_acls(path)
        out['acl'] = acl_list(acls)
        out['get'] = zk.get(path)[0].decode()
    except Exception as e:  # noqa: BLE001
        out['error'] = err(e)
    finally:
        zk.stop()
        zk.close()
    if 'create' in out:
        # A session without the SASL login may not read what CREATOR_ALL_ACL protects.
        stranger_get(hosts, path, out)
    return out


def reconfig(hosts):
    out = {}
    zk, out['connect'] = connect(hosts)
    if zk is None:
        return out
    try:
        # kazoo 2.8's handler thread has no exception class for RECONFIGDISABLED (-123), so the
        # call would never return: the result is taken with a bound.
        result = zk.reconfig_async(joining=None, leaving='9', new_members=None, from_config=-1)
        try:
            result.get(timeout=5)
            out['reconfig'] = 'OK'
        except Exception as e:  # noqa: BLE001
            # A bound that ran out is reported as such, whatever the handler's class for it.
            out['reconfig'] = 'Timeout' if 'Timeout' in err(e) else err(e)
    finally:
        zk.stop()
        zk.close()
    return out


def main(argv):
    cmd = argv[1]
    if cmd == 'creator-acl':
        res = creator_acl(argv[2], argv[3], argv[4])
    elif cmd == 'sasl':
        res = sasl(argv[2], argv[3], argv[4], argv[5])
    elif cmd == 'reconfig':
        res = reconfig(argv[2])
    else:
        raise SystemExit(f'unknown subcommand {cmd}')
    print(json.dumps(res))


if __name__ == '__main__':
    main(sys.argv)
