/**
 * A real 3-process zk-elect cluster whose every peer link goes through its own relay (one per
 * direction and port), so that a test can cut (reset) or silence (drop) the links of one
 * member, as a firewall would, while clients still reach every member directly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../../src/launcher/cli-process.js';
import { LocalEnsemble, LocalMember } from '../../src/launcher/local-ensemble.js';
import { allocatePorts } from '../../src/launcher/ports.js';
import { TcpRelay } from './tcp-relay.js';

export interface RelayedCluster {
  ensemble: LocalEnsemble;
  members: LocalMember[];
  /** Every relay on a link to or from member `id`. */
  linksOf(id: number): TcpRelay[];
  close(): Promise<void>;
}

export async function startRelayedCluster(opts: { prefix: string; extraArgs?: string[]; logLevel?: string }): Promise<RelayedCluster> {
  const ports = await allocatePorts(3);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.prefix}-`));
  const relays: TcpRelay[] = [];
  // relay[i>j]: node i's links to node j (quorum and election).
  const relay = new Map<string, { quorum: TcpRelay; election: TcpRelay }>();
  for (const a of ports) {
    for (const b of ports) {
      if (a.id === b.id) continue;
      const pair = { quorum: await TcpRelay.start({ host: '127.0.0.1', port: b.quorum }), election: await TcpRelay.start({ host: '127.0.0.1', port: b.election }) };
      relays.push(pair.quorum, pair.election);
      relay.set(`${a.id}>${b.id}`, pair);
    }
  }
  const members = ports.map((me) => {
    const servers = ports.map((p) => {
      const r = relay.get(`${me.id}>${p.id}`);
      return { id: p.id, host: '127.0.0.1', clientPort: p.client, quorumPort: r ? r.quorum.port : p.quorum, electionPort: r ? r.election.port : p.election };
    });
    const memberDir = path.join(dir, `member-${me.id}`);
    fs.mkdirSync(memberDir, { recursive: true });
    const config = path.join(memberDir, 'cluster.json');
    fs.writeFileSync(config, JSON.stringify({ tickMs: 200, initLimit: 10, syncLimit: 5, dataDir: dir, servers }));
    const args = [CLI, 'server', '--id', String(me.id), '--config', config, ...(opts.extraArgs ?? []), '--log-level', opts.logLevel ?? 'warn'];
    return new LocalMember(me.id, me.client, memberDir, process.execPath, args, 30_000);
  });
  const ensemble = new LocalEnsemble(members, dir);
  for (const m of members) m.spawn();
  try {
    await ensemble.waitReady(30_000, 'zk-elect cluster behind relays');
  } catch (e) {
    await ensemble.stop();
    await Promise.all(relays.map((r) => r.close()));
    throw e;
  }
  return {
    ensemble,
    members,
    linksOf: (id) =>
      [...relay].filter(([key]) => key.split('>').map(Number).includes(id)).flatMap(([, pair]) => [pair.quorum, pair.election]),
    close: async () => {
      await ensemble.stop();
      await Promise.all(relays.map((r) => r.close()));
    },
  };
}
