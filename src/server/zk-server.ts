/**
 * `zk-elect server`: a ZkNode on the real clock, network and disk, plus the admin HTTP server
 * (dashboard, /commands, /metrics) when an admin port is configured. The simulator builds the
 * same ZkNode without this shell.
 */
import path from 'node:path';
import { silentLogger, type Logger } from '../log.js';
import { AdminServer } from './admin/admin-server.js';
import { ADMIN_TOKEN_FILE, loadOrCreateAdminToken } from './admin/admin-token.js';
import { launcherControl, peerViewProvider } from './cluster/peer-view.js';
import type { ServerConfig } from './config.js';
import { systemIo, type NodeIo } from './node/io.js';
import { ZkNode } from './node/zk-node.js';

/** A node with its admin server. Everything a ZkNode offers is reachable as `server.node`. */
export class ZkServer {
  private constructor(
    readonly node: ZkNode,
    private readonly admin: { server: AdminServer; token: string; tokenFile: string } | undefined,
  ) {}

  static async start(config: ServerConfig, logger: Logger = silentLogger(), io: NodeIo = systemIo): Promise<ZkServer> {
    const node = await ZkNode.start(config, io, logger);
    if (config.adminPort === undefined) return new ZkServer(node, undefined);
    const cluster = config.cluster;
    try {
      const tokenFile = config.adminTokenFile ?? path.join(config.dataDir, ADMIN_TOKEN_FILE);
      const { token } = loadOrCreateAdminToken(tokenFile);
      const options = {
        host: config.adminHost ?? '127.0.0.1',
        port: config.adminPort,
        token,
        ...(cluster ? { clusterView: peerViewProvider(cluster.config, cluster.id) } : {}),
        ...(cluster?.config.controlUrl ? { control: launcherControl(cluster.config.controlUrl, token) } : {}),
      };
      const server = await AdminServer.start(node, options, logger);
      return new ZkServer(node, { server, token, tokenFile });
    } catch (e) {
      await node.stop();
      throw e;
    }
  }

  get config(): ServerConfig {
    return this.node.config;
  }
  get clientPort(): number {
    return this.node.clientPort;
  }
  /** The TLS client port as bound, when configured. */
  get securePort(): number | undefined {
    return this.node.securePort;
  }
  get connectString(): string {
    return this.node.connectString;
  }
  get lastZxid(): bigint {
    return this.node.lastZxid;
  }
  /** The admin server's address, when `adminPort` is set. */
  get adminUrl(): string | undefined {
    return this.admin?.server.url;
  }
  /** The token state-changing admin requests need, and the file it is kept in. */
  get adminToken(): { token: string; file: string } | undefined {
    return this.admin ? { token: this.admin.token, file: this.admin.tokenFile } : undefined;
  }
  stateView(): ReturnType<ZkNode['stateView']> {
    return this.node.stateView();
  }
  snapshot(): Promise<void> {
    return this.node.snapshot();
  }

  async stop(): Promise<void> {
    await this.admin?.server.stop();
    await this.node.stop();
  }
}
