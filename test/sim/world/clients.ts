/**
 * Simulated client machines for workloads: each runs one WireClient at a time (a new session
 * after the old one expired), records what it sees, and runs loops on its own clock until the
 * workload is told to stop.
 */
import { WireClient } from '../../../src/client/zk-client.js';
import type { SimHost } from '../io/host.js';
import { Prng } from '../prng.js';
import type { Recorder } from './recorder.js';
import type { SimWorld } from './world.js';

export class ClientMachine {
  readonly host: SimHost;
  client: WireClient;
  private generation = 0;
  readonly rng: Prng;

  constructor(
    readonly world: SimWorld,
    readonly name: string,
    readonly sessionTimeoutMs: number,
    private readonly recorder: Recorder,
  ) {
    this.host = world.clientHost(name);
    this.rng = new Prng(world.rng.nextU32());
    this.client = this.open();
  }

  get clock() {
    return this.host.clock();
  }

  /** A fresh session (the old one expired or was closed). */
  renew(): WireClient {
    this.client = this.open();
    return this.client;
  }

  /** The client is alive: its session has not ended. */
  get usable(): boolean {
    return this.client.state !== 'expired' && this.client.state !== 'closed';
  }

  private open(): WireClient {
    const label = `${this.name}#${++this.generation}`;
    const client: WireClient = new WireClient({
      network: this.world.net.forHost(this.host),
      clock: this.host.clock(),
      rng: new Prng(this.rng.nextU32()),
      servers: this.world.addresses,
      sessionTimeoutMs: this.sessionTimeoutMs,
      name: label,
      onEvent: this.recorder.listener(this.host, label, () => client.negotiatedTimeoutMs || this.sessionTimeoutMs),
    });
    client.start();
    return client;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((r) => this.host.clock().after(ms, r));
  }
}

/** Runs `body` repeatedly until `running()` turns false; a sleep between rounds. */
export async function loop(m: ClientMachine, running: () => boolean, pauseMs: [number, number], body: () => Promise<void>): Promise<void> {
  while (running()) {
    if (!m.usable) m.renew();
    await body();
    await m.sleep(m.rng.int(pauseMs[0], pauseMs[1]));
  }
}
