/**
 * The election library's SessionHandle over the simulated client, so ZkSession (loss deadline,
 * renewal after expiry) and LeaderElection run unchanged in the simulator: they get a transport
 * that opens SimZkClients instead of C-client handles.
 *
 * Events map as the C client's do: connected -> 'connected', a dropped connection ->
 * 'connecting', expired or closed -> 'closed' (code SESSIONEXPIRED or CLOSING).
 */
import { EventEmitter } from 'node:events';
import type { HandleFactory, HandleOptions, SessionHandle, SessionHandleEvents } from '../../../src/election/handle.js';
import { isServerReply, ZkCode, type CreateMode, type Watcher, type ZkStat } from '../../../src/election/zk-types.js';
import { toZkOps, type SimZkOps } from './zk-ops.js';
import type { ClientEvent, SimZkClientOptions } from './types.js';
import { SimZkClient } from './zk-client.js';

class SimHandle extends EventEmitter<SessionHandleEvents> implements SessionHandle {
  opTimeoutMs: number;
  private closedFlag = false;
  private readonly client: SimZkClient;
  private readonly ops: SimZkOps;

  constructor(
    private readonly options: HandleOptions,
    make: (onEvent: (e: ClientEvent) => void) => SimZkClient,
  ) {
    super();
    this.opTimeoutMs = options.sessionTimeoutMs;
    this.client = make((e) => this.onEvent(e));
    const self = this;
    this.ops = toZkOps(this.client, {
      get opTimeoutMs() {
        return self.opTimeoutMs;
      },
    });
    this.client.start();
  }

  private onEvent(e: ClientEvent): void {
    if (e.type === 'reply' && !e.local && isServerReply(e.err)) this.options.onServerReply(e.sentMs);
    if (e.type !== 'state' || this.closedFlag) return;
    if (e.state === 'connected') this.emit('connected');
    else if (e.state === 'disconnected' && e.prev === 'connected') this.emit('connecting');
    else if (e.state === 'expired' || e.state === 'closed') {
      this.closedFlag = true;
      this.emit('closed', e.state === 'expired' ? ZkCode.SESSIONEXPIRED : ZkCode.CLOSING);
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }
  get sessionId(): string {
    return this.closedFlag ? '0' : this.ops.sessionId;
  }
  get negotiatedTimeoutMs(): number {
    return this.client.negotiatedTimeoutMs || this.options.sessionTimeoutMs;
  }
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    void this.client.close();
  }
  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.ops.create(path, data, mode);
  }
  remove(path: string, version?: number): Promise<void> {
    return this.ops.remove(path, version);
  }
  exists(path: string, watcher?: Watcher): Promise<ZkStat | null> {
    return this.ops.exists(path, watcher);
  }
  getChildren(path: string, watcher?: Watcher): Promise<string[]> {
    return this.ops.getChildren(path, watcher);
  }
  getData(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.ops.getData(path, watcher);
  }
  setData(path: string, data: Buffer, version?: number): Promise<ZkStat> {
    return this.ops.setData(path, data, version);
  }
}

/**
 * A transport for ZkSession: every handle is a new SimZkClient built by `make` (which sets
 * network, clock, servers, rng), with `onEvent` also forwarded to the caller's recorder.
 */
export function simTransport(make: (o: Pick<SimZkClientOptions, 'sessionTimeoutMs' | 'onEvent'>) => SimZkClient): HandleFactory {
  return (options) => new SimHandle(options, (onEvent) => make({ sessionTimeoutMs: options.sessionTimeoutMs, onEvent }));
}
