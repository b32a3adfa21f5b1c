// ZooKeeper in Docker via testcontainers (official zookeeper:3.8 image), used
// only when a Docker engine really answers. testcontainers is imported lazily
// so machines without it (or without Docker) never load it.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isEnsembleReady, modeOf, type ZkMode } from '../../src/launcher/four-letter-word.js';
import { freePorts } from '../../src/launcher/ports.js';
import type { ZkEnsemble, ZkMember } from '../../src/launcher/types.js';
import type { ResolvedOptions } from './apache-types.js';

const IMAGE = 'zookeeper:3.8';

/** Where testcontainers would look for the engine (same order as its strategies). */
function engineEndpoint(): http.RequestOptions | undefined {
  const host = process.env['DOCKER_HOST'];
  if (host) {
    if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
    const tcp = /^tcp:\/\/([^:/]+):(\d+)/.exec(host);
    // TLS (DOCKER_TLS_VERIFY) and ssh:// engines are not pinged; treated as absent.
    if (tcp && !process.env['DOCKER_TLS_VERIFY']) return { host: tcp[1]!, port: Number(tcp[2]) };
    return undefined;
  }
  const home = os.homedir();
  const candidates = [
    '/var/run/docker.sock',
    process.env['XDG_RUNTIME_DIR'] && path.join(process.env['XDG_RUNTIME_DIR'], 'docker.sock'),
    path.join(home, '.docker', 'run', 'docker.sock'),
    path.join(home, '.docker', 'desktop', 'docker.sock'),
  ];
  const socketPath = candidates.find((p): p is string => !!p && fs.existsSync(p));
  return socketPath ? { socketPath } : undefined;
}

/** GET /_ping, bounded: a docker CLI without an engine must never stall tests. */
export async function dockerEngineAnswers(timeoutMs = 2000): Promise<boolean> {
  const endpoint = engineEndpoint();
  if (!endpoint) return false;
  return new Promise((resolve) => {
    const req = http.get({ ...endpoint, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

type Started = import('testcontainers').StartedTestContainer;
type Runtime = import('testcontainers').ContainerRuntimeClient;

class ContainerMember implements ZkMember {
  readonly pid = undefined; // the process lives in the engine's PID namespace
  private up = true;
  private pending: Promise<unknown> = Promise.resolve(); // pause()/resume() are fire-and-forget

  constructor(
    readonly id: number,
    readonly clientPort: number,
    readonly address: string,
    readonly container: Started,
    private readonly runtime: Runtime,
    private readonly startTimeoutMs: number,
  ) {}

  get running(): boolean {
    return this.up;
  }
  private get handle() {
    return this.runtime.container.getById(this.container.getId());
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.pending;
    if (!this.up) return;
    await this.handle.kill({ signal });
    await this.handle.wait();
    this.up = false;
  }
  pause(): void {
    this.pending = this.pending.then(() => this.handle.pause());
  }
  resume(): void {
    this.pending = this.pending.then(() => this.handle.unpause());
  }
  async start(): Promise<void> {
    await this.pending;
    if (!this.up) await this.handle.start(); // host port binding is fixed, so the address survives
    this.up = true;
    const deadline = Date.now() + this.startTimeoutMs;
    while ((await this.mode()) === 'unknown') {
      if (Date.now() > deadline) throw new Error(`container member ${this.id} did not serve within ${this.startTimeoutMs} ms`);
      await sleep(100);
    }
  }
  mode(): Promise<ZkMode> {
    return modeOf(this.address, 1000);
  }
}

export async function startContainers(o: ResolvedOptions): Promise<ZkEnsemble> {
  const tc = await import('testcontainers');
  const runtime = await tc.getContainerRuntimeClient();
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
  // Fixed host ports so a killed-and-restarted member keeps its address.
  const hostPorts = await freePorts(o.nodes);
  const network = o.nodes > 1 ? await new tc.Network().start() : undefined;
  const servers = ids.map((id) => `server.${id}=zk${id}:2888:3888;2181`).join(' ');
  const started = new Map<number, Started>();
  const stopAll = async () => {
    await Promise.allSettled([...started.values()].map((c) => c.stop({ timeout: 0 })));
    await network?.stop().catch(() => undefined);
  };
  try {
    await Promise.all(
      ids.map(async (id, i) => {
        let c = new tc.GenericContainer(IMAGE)
          .withExposedPorts({ container: 2181, host: hostPorts[i]! })
          .withStartupTimeout(o.startTimeoutMs)
          .withEnvironment({
            ZOO_MY_ID: String(id),
            ZOO_TICK_TIME: String(o.tickTimeMs),
            ZOO_INIT_LIMIT: String(Math.max(10, Math.ceil(10_000 / o.tickTimeMs))),
            ZOO_SYNC_LIMIT: String(Math.max(5, Math.ceil(2_000 / o.tickTimeMs))),
            ZOO_MAX_CLIENT_CNXNS: '0',
            ...(o.fourLetterWhitelist === null ? {} : { ZOO_4LW_COMMANDS_WHITELIST: o.fourLetterWhitelist }),
            ZOO_ADMINSERVER_ENABLED: 'false',
            ZOO_CFG_EXTRA: `minSessionTimeout=${o.minSessionTimeoutMs} maxSessionTimeout=${o.maxSessionTimeoutMs} quorumListenOnAllIPs=true`,
            ...(network ? { ZOO_SERVERS: servers } : {}),
          });
        if (network) c = c.withNetwork(network).withNetworkAliases(`zk${id}`);
        started.set(id, await c.start());
      }),
    );
    const members = ids.map((id, i) => {
      const container = started.get(id)!;
      const host = container.getHost();
      const address = `${host === 'localhost' ? '127.0.0.1' : host}:${hostPorts[i]}`;
      return new ContainerMember(id, hostPorts[i]!, address, container, runtime, o.startTimeoutMs);
    });
    const deadline = Date.now() + o.startTimeoutMs;
    let modes: ZkMode[] = [];
    while (!isEnsembleReady((modes = await Promise.all(members.map((m) => m.mode()))))) {
      if (Date.now() > deadline) throw new Error(`${IMAGE} containers not ready within ${o.startTimeoutMs} ms (modes: ${modes.join(', ')})`);
      await sleep(100);
    }
    let stopping: Promise<void> | undefined;
    return {
      source: 'container',
      connectString: members.map((m) => m.address).join(','),
      members,
      async leader() {
        const wanted = members.length === 1 ? 'standalone' : 'leader';
        const found = await Promise.all(members.map((m) => m.mode()));
        return members[found.indexOf(wanted)];
      },
      stop: () => (stopping ??= stopAll()),
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
