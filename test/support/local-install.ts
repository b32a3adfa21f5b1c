// Finds a runnable local Apache ZooKeeper: a JVM plus a classpath that holds
// QuorumPeerMain and an SLF4J binding we can point at a log file.
import fs from 'node:fs';
import path from 'node:path';

export interface LocalInstall {
  readonly java: string;
  readonly classpath: string[];
  /** Human-readable origin, used in error messages. */
  readonly origin: string;
}

const DEBIAN_JAR = '/usr/share/java/zookeeper.jar';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findJava(): string | undefined {
  const home = process.env['JAVA_HOME'];
  if (home && isExecutable(path.join(home, 'bin', 'java'))) return path.join(home, 'bin', 'java');
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, 'java'))) return path.join(dir, 'java');
  }
  return undefined;
}

function jarsIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.jar'))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/**
 * Debian's zookeeper.jar names its dependencies in its manifest Class-Path,
 * but that list has slf4j-api and NO binding, so the server silently logs
 * nothing (SLF4J NOP). We add the log4j 1.2 binding that libzookeeper-java
 * depends on (libslf4j-java + liblog4j1.2-java), else slf4j-simple.
 */
function debianClasspath(): string[] {
  const j = (name: string) => path.join('/usr/share/java', name);
  const cp = [DEBIAN_JAR];
  if (fs.existsSync(j('slf4j-log4j12.jar')) && fs.existsSync(j('log4j-1.2.jar'))) {
    cp.push(j('slf4j-log4j12.jar'), j('log4j-1.2.jar'));
  } else if (fs.existsSync(j('slf4j-simple.jar'))) {
    cp.push(j('slf4j-simple.jar'));
  }
  return cp;
}

/** Returns the install, or a sentence saying why none is usable. */
export function findLocalInstall(): LocalInstall | string {
  const java = findJava();
  const home = process.env['ZOOKEEPER_HOME'];
  let classpath: string[];
  let origin: string;
  if (home) {
    // Binary tarballs keep everything in lib/; some layouts also have a top-level jar.
    classpath = [...jarsIn(home), ...jarsIn(path.join(home, 'lib'))];
    origin = `ZOOKEEPER_HOME=${home}`;
    if (classpath.length === 0) return `ZOOKEEPER_HOME=${home} has no *.jar in it or in its lib/ directory.`;
  } else if (fs.existsSync(DEBIAN_JAR)) {
    classpath = debianClasspath();
    origin = `Debian package (${DEBIAN_JAR})`;
  } else {
    return 'No local ZooKeeper: ZOOKEEPER_HOME is unset and /usr/share/java/zookeeper.jar is absent.';
  }
  if (!java) return `Found ZooKeeper (${origin}) but no java executable (JAVA_HOME or PATH).`;
  return { java, classpath, origin };
}
