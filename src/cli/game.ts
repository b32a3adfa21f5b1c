/**
 * `zk-elect game`: the distributed number-guessing game as a console (node:readline), or as
 * a script runner with --exec. The rules live in src/game/rules.ts, the znode in
 * src/game/store.ts; this file only wires options, sessions, input and output.
 */
import { Command, InvalidArgumentError as UsageError, Option } from 'commander';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { parseConnectString } from '../election/connect-string.js';
import { validatePath } from '../election/names.js';
import type { GameConsole, Connector, Result } from '../game/console.js';
import { formatResult } from '../game/format.js';
import { COMMAND_HELP, validatePlayer, type Command as GameCommand } from '../game/rules.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../log.js';
import type { DigestAuth } from '../election/auth.js';
import type { TransportName } from '../election/handle.js';
import { authOption, parseMs, transportOption } from './options.js';
import { addTlsOptions, type TlsCliOptions } from './tls-options.js';

interface GameOptions extends TlsCliOptions {
  connect: string;
  path: string;
  name: string;
  exec: string[];
  json: boolean;
  sessionTimeout: number;
  connectTimeout: number;
  logLevel: LogLevel;
  auth?: DigestAuth;
  transport: TransportName;
}

const usage = (parse: (v: string) => unknown) => (v: string) => {
  try {
    parse(v);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return v;
};

export function addGameCommand(program: Command): void {
  const game = program.command('game');
  addTlsOptions(game);
  game
    .description('play the distributed number-guessing game: one znode, updated only by compare-and-swap')
    .addOption(new Option('-c, --connect <servers>', 'ZooKeeper servers, host:port[,host:port...][/chroot]').env('ZK_CONNECT').default('127.0.0.1:2181').argParser(usage(parseConnectString)))
    .addOption(new Option('-p, --path <znode>', 'the game\'s znode').default('/game').argParser(usage(validatePath)))
    .addOption(new Option('-n, --name <player>', 'player name recorded with each move').default(`${hostname()}-${process.pid}`, '<hostname>-<pid>').argParser(usage(validatePlayer)))
    .addOption(new Option('-e, --exec <command>', 'run this console command instead of reading stdin (repeatable; implies --json)').argParser((v, prev: string[]) => [...prev, v]).default([]))
    .addOption(new Option('--json', 'print one JSON result per line instead of text').default(false))
    .addOption(new Option('--session-timeout <ms>', 'requested ZooKeeper session timeout').default(10_000).argParser(parseMs('--session-timeout', 100)))
    .addOption(new Option('--connect-timeout <ms>', 'give up if no server answers within this time').default(15_000).argParser(parseMs('--connect-timeout', 1)))
    .addOption(new Option('--log-level <level>', 'diagnostics on stderr').choices(LOG_LEVELS).default('warn'))
    .addOption(authOption())
    .addOption(transportOption())
    .addHelpText(
      'after',
      `
Console commands:
${formatResult({ cmd: 'help', ok: true, commands: COMMAND_HELP })}

Rules: write starts a round (refused while one is in progress). A guess that hits the target
wins and ends the round. A guess whose distance to the target is smaller than every earlier
distance in the round (the closest so far) becomes the new target; any other guess, ties
included, is farther. Every move is a conditional setData on the game znode, retried from a
fresh read when another player got in first.

Exit status with --exec: 0 if every command succeeded, 1 if any was refused or failed,
2 if a command does not parse (then nothing runs).

Examples:
  zk-elect game -c zk1:2181,zk2:2181 --name alice
  zk-elect game --exec "write 42" --exec "guess 40" --exec read`,
    )
    .action((opts: GameOptions) => gameCommand(opts));
}

async function gameCommand(opts: GameOptions): Promise<void> {
  // Imported here, not at the top: every command's start (a server's too) would load them.
  const [{ ZkSession }, { GameStore }, { GameConsole }] = await Promise.all([import('../election/session.js'), import('../game/store.js'), import('../game/console.js')]);
  const logger = createLogger(opts.logLevel);
  const connector: Connector = async (connect) => {
    const session = await ZkSession.connect({ connect, sessionTimeoutMs: opts.sessionTimeout, connectTimeoutMs: opts.connectTimeout, logger, transport: opts.transport, ...(opts.tls ? { tls: opts.tls } : {}), ...(opts.auth ? { auth: opts.auth } : {}) });
    return { connect, sessionId: session.sessionId, store: new GameStore(session, opts.path), close: () => session.close() };
  };
  const game = new GameConsole(opts.name, connector, parseConnectString);
  if (opts.exec.length > 0) {
    process.exitCode = await runScript(game, opts);
  } else {
    await runRepl(game, opts);
  }
  await game.close();
}

/** All commands are parsed before any runs: a typo in a script changes nothing. */
async function runScript(game: GameConsole, opts: GameOptions): Promise<number> {
  const commands: GameCommand[] = [];
  for (const line of opts.exec) {
    const parsed = game.parse(line);
    if (!parsed.ok) {
      process.stderr.write(`zk-elect game: --exec ${JSON.stringify(line)}: ${parsed.error}\n`);
      return 2;
    }
    commands.push(parsed.command);
  }
  const connected = await game.execute({ name: 'connect', connect: opts.connect });
  if (!connected.ok) {
    print(connected, true);
    return 1;
  }
  let failed = false;
  for (const command of commands) {
    const result = await game.execute(command);
    print(result, true);
    failed ||= !result.ok;
    if (command.name === 'quit') break;
  }
  return failed ? 1 : 0;
}

async function runRepl(game: GameConsole, opts: GameOptions): Promise<void> {
  const interactive = process.stdin.isTTY === true && !opts.json;
  // Not connecting is not fatal here: the player can still `connect` somewhere else.
  print(await game.execute({ name: 'connect', connect: opts.connect }), opts.json);
  if (interactive) process.stdout.write(`playing ${opts.path} as ${opts.name}; type help\n`);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive, prompt: 'game> ' });
  // Ctrl-C at the prompt leaves like quit (a terminal only: piped input gets the default SIGINT).
  rl.on('SIGINT', () => {
    process.stdout.write('\n');
    rl.close();
  });
  if (interactive) rl.prompt();
  // for-await runs one command at a time: lines typed meanwhile wait their turn.
  for await (const line of rl) {
    if (line.trim() !== '') {
      const result = await game.run(line);
      print(result, opts.json);
      if (result.ok && result.cmd === 'quit') break;
    }
    if (interactive) rl.prompt();
  }
  rl.close();
}

function print(result: Result, json: boolean): void {
  process.stdout.write((json ? JSON.stringify(result) : formatResult(result)) + '\n');
}
