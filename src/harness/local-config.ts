// Files a locally spawned ensemble needs: zoo.cfg per member, logging config,
// and free loopback ports. Kept apart from process handling for readability.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { ResolvedOptions } from './types.js';

export interface MemberPorts {
  id: number;
  client: number;
  quorum: number;
  election: number;
}

/**
 * Binds port 0 for every needed port at once (so no two are equal), then
 * releases them for Java. A port can in principle be taken in between; the
 * window is milliseconds on loopback, and a failed bind shows in the log tail.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

export async function allocatePorts(nodes: number): Promise<MemberPorts[]> {
  const ports = await freePorts(nodes * 3);
  return Array.from({ length: nodes }, (_, i) => ({
    id: i + 1,
    client: ports[i * 3]!,
    quorum: ports[i * 3 + 1]!,
    election: ports[i * 3 + 2]!,
  }));
}

export function zooCfg(me: MemberPorts, all: MemberPorts[], dataDir: string, o: ResolvedOptions): string {
  const ticks = (ms: number, min: number) => Math.max(min, Math.ceil(ms / o.tickTimeMs));
  const lines = [
    `tickTime=${o.tickTimeMs}`,
    // Generous limits (10 s to sync, 2 s between acks at tickTime 200): two
    // cores running three JVMs must not make followers drop out spuriously.
    `initLimit=${ticks(10_000, 10)}`,
    `syncLimit=${ticks(2_000, 5)}`,
    `dataDir=${dataDir}`,
    `clientPort=${me.client}`,
    'clientPortAddress=127.0.0.1',
    `minSessionTimeout=${o.minSessionTimeoutMs}`,
    `maxSessionTimeout=${o.maxSessionTimeoutMs}`,
    // Tests and benchmarks open many sessions from one IP (default cap is 60).
    'maxClientCnxns=0',
    '4lw.commands.whitelist=*',
    'admin.enableServer=false',
    // Unknown keys become zookeeper.* system properties: 1 MiB txn-log blocks
    // instead of 64 MiB per member keeps temp dirs small; fsync stays on so
    // timings resemble a real deployment.
    'preAllocSize=1024',
    'forceSync=yes',
  ];
  if (all.length > 1) {
    lines.push('reconfigEnabled=false', 'quorumListenOnAllIPs=false');
    for (const m of all) lines.push(`server.${m.id}=127.0.0.1:${m.quorum}:${m.election}`);
  }
  return lines.join('\n') + '\n';
}

// Both configs are written; the classpath decides which framework reads its
// file (Debian: slf4j-log4j12 + log4j 1.2; upstream 3.8 tarball: logback).
// The log file name arrives per member through -Dzk.harness.logFile.
const LOG4J = `log4j.rootLogger=INFO, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=\${zk.harness.logFile}
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
`;

const LOGBACK = `<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>\${zk.harness.logFile}</file>
    <append>true</append>
    <encoder><pattern>%d{ISO8601} %-5level [%thread:%logger{0}] - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
`;

/** Writes logging configs into `dir` and returns the JVM flags that select them. */
export function writeLoggingConfig(dir: string): (logFile: string) => string[] {
  const log4j = path.join(dir, 'log4j.properties');
  const logback = path.join(dir, 'logback.xml');
  fs.writeFileSync(log4j, LOG4J);
  fs.writeFileSync(logback, LOGBACK);
  return (logFile) => [
    `-Dzk.harness.logFile=${logFile}`,
    `-Dlog4j.configuration=file:${log4j}`,
    `-Dlogback.configurationFile=${logback}`,
    // Used only if the classpath fell back to slf4j-simple.
    `-Dorg.slf4j.simpleLogger.logFile=${logFile}`,
  ];
}

/** Last `bytes` of a file, or '' if it does not exist. */
export function tail(file: string, bytes = 4000): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const len = Math.min(size, bytes);
      const buf = Buffer.alloc(len);
      fs.readSync(fd, buf, 0, len, size - len);
      return buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
