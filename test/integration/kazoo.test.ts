/**
 * kazoo 2.8 (python3-kazoo) as a user would run it, against a real Apache ZooKeeper 3.8 and a
 * real zk-elect server side by side: each check runs on both and the answers must be equal,
 * and what they must be is asserted too.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startZooKeeper, type ZkEnsemble } from '../support/apache-zookeeper.js';
import { kazoo, kazooPython } from '../support/kazoo-probe.js';
import { startZkElectServer } from '../support/zk-elect-server.js';

const OPTIONS = { nodes: 1, tickTimeMs: 200, minSessionTimeoutMs: 1000, maxSessionTimeoutMs: 60_000 } as const;
const digestOf = (userPass: string): string => `${userPass.split(':')[0]}:${createHash('sha1').update(userPass).digest('base64')}`;

describe('kazoo against Apache ZooKeeper and zk-elect', () => {
  let apache: ZkEnsemble | undefined;
  let ours: ZkEnsemble | undefined;
  before(async () => {
    kazooPython(); // fail early and clearly when kazoo is missing
    [apache, ours] = await Promise.all([startZooKeeper({ ...OPTIONS, controllable: true }), startZkElectServer(OPTIONS)]);
  }, { timeout: 90_000 });
  after(async () => {
    await Promise.all([apache?.stop(), ours?.stop()]);
  });

  /** The same kazoo subcommand on both servers (the same znode path on each). */
  async function both(...args: string[]): Promise<{ apache: Record<string, unknown>; ours: Record<string, unknown> }> {
    const [a, o] = await Promise.all([kazoo(args[0]!, apache!.connectString, ...args.slice(1)), kazoo(args[0]!, ours!.connectString, ...args.slice(1))]);
    return { apache: a, ours: o };
  }

  test("create with kazoo's CREATOR_ALL_ACL after add_auth('digest', ...): the creator's digest is stored", { timeout: 60_000 }, async () => {
    const path = `/kazoo-creator-${randomBytes(3).toString('hex')}`;
    const r = await both('creator-acl', path, 'kaz:pw');
    assert.deepEqual(r.ours, r.apache);
    assert.deepEqual(r.ours, {
      connect: 'OK',
      add_auth: 'OK',
      create: path,
      acl: [{ perms: 31, scheme: 'digest', id: digestOf('kaz:pw') }],
      get: 'v',
      stranger_get: 'NoAuthError',
    });
  });
});
