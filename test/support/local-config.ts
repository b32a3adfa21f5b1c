// Files a locally spawned Apache ZooKeeper ensemble needs: zoo.cfg per member
// and logging config. Free ports come from the CLI's launcher (src/launcher/ports.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { MemberPorts } from '../../src/launcher/ports.js';
import type { ResolvedOptions } from './apache-types.js';

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
    // Tests read every word; null keeps ZooKeeper's default (srvr only).
    ...(o.fourLetterWhitelist === null ? [] : [`4lw.commands.whitelist=${o.fourLetterWhitelist}`]),
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
  // The caller's keys replace ours (e.g. preAllocSize back to ZooKeeper's default) or are added.
  const overrides = Object.entries(o.zooCfg ?? {});
  const kept = lines.filter((l) => !overrides.some(([k]) => l.startsWith(`${k}=`)));
  return [...kept, ...overrides.map(([k, v]) => `${k}=${v}`)].join('\n') + '\n';
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
