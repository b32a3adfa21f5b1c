#!/usr/bin/env node
/**
 * The `zk-elect` command. Exit codes: 0 clean exit (including SIGINT/SIGTERM, which resign
 * and leave), 1 runtime failure, 2 usage error.
 */
import { Command, CommanderError, InvalidArgumentError as UsageError, Option } from 'commander';
import { createRequire } from 'node:module';
import { ZkElectError } from '../election/errors.js';
import type { DemoOptions } from './demo.js';
import { addGameCommand } from './game.js';
import type { HandoffOptions } from './handoff.js';
import { addCommonOptions, parseMs, type CommonOptions } from './options.js';
import type { RunOptions } from './run.js';
import { addServerCommand } from './server.js';
import { addClusterCommand } from './cluster.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Each command's code is imported when that command runs: a server restart should not first
 * load the election client and its native addon (together ~100 ms of every start).
 */
function buildProgram(): Command {
  const program = new Command('zk-elect')
    .description('Leader election on ZooKeeper: stand as a candidate, watch an election, or run a command only while leader.')
    .version(version)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  addCommonOptions(
    program
      .command('join', { isDefault: true })
      .description('stand for election and print every state change (the default command)')
      .addHelpText(
        'after',
        `
Examples:
  zk-elect                                   # join /election on 127.0.0.1:2181
  zk-elect join -c zk1:2181,zk2:2181,zk3:2181 -p /services/billing --id billing-1
  zk-elect join --id big-box --priority 10 --preempt --meta zone=eu-west-1a
  zk-elect --json | jq 'select(.event=="elected")'
  ZK_ELECT_AUTH=digest:billing:s3cret zk-elect -p /services/billing   # only this identity may join or delete`,
      ),
    { candidate: true },
  ).action(async (opts: CommonOptions) => (await import('./join.js')).joinCommand(opts));

  addCommonOptions(
    program
      .command('watch')
      .description('follow an election without standing in it')
      .addHelpText('after', '\nExamples:\n  zk-elect watch -p /election\n  zk-elect watch --json'),
    { candidate: false },
  ).action(async (opts: CommonOptions) => (await import('./watch.js')).watchCommand(opts));

  addCommonOptions(
    program
      .command('status')
      .description('print the candidates, leader first, and exit')
      .addHelpText('after', '\nExamples:\n  zk-elect status -p /election\n  zk-elect status --json | jq .leader'),
    { candidate: false },
  ).action(async (opts: CommonOptions) => (await import('./status.js')).statusCommand(opts));

  addCommonOptions(
    program
      .command('handoff')
      .description('ask the current leader to hand the lead to one named candidate, and wait until it leads')
      .requiredOption('--to <id>', 'the candidate to lead: its id, uuid or node name', (v: string) => {
        if (v.length === 0) throw new UsageError('--to must not be empty');
        return v;
      })
      .addOption(new Option('--timeout <ms>', 'give up (exit 1) when the target does not lead within this time').default(30_000).argParser(parseMs('--timeout', 1)))
      .addHelpText(
        'after',
        `
Only the leader is woken (it watches the request); the target takes the lead and every other
candidate sleeps on. If the target is gone or does not answer, the leader keeps the lead and
this exits 1.

Examples:
  zk-elect handoff --to billing-2 -p /services/billing
  zk-elect handoff --to billing-2 --json | jq .handedOver`,
      ),
    { candidate: false },
  ).action(async (opts: HandoffOptions) => (await import('./handoff.js')).handoffCommand(opts));

  addCommonOptions(
    program
      .command('run')
      .description('run a command only while this candidate leads; stop its whole process group when leadership ends')
      .argument('<command...>', 'the command to run (put it after --)')
      .addOption(new Option('--grace <ms>', 'time between SIGTERM and SIGKILL when stopping the command').default(5000).argParser(parseMs('--grace', 0)))
      .addOption(new Option('--restart', 're-queue and run again after the command exits by itself (default: exit with its code)').default(false))
      .addHelpText(
        'after',
        `
The command gets ZK_ELECT_TOKEN (fencing token, strictly increasing across leaders),
ZK_ELECT_NODE and ZK_ELECT_ID in its environment.

Examples:
  zk-elect run -p /cron -- ./nightly-job.sh
  zk-elect run --restart --grace 10000 -- node worker.js`,
      ),
    { candidate: true },
  ).action(async (command: string[], opts: RunOptions) => (await import('./run.js')).runCommand(command, opts));

  addServerCommand(program);
  addClusterCommand(program);
  addGameCommand(program);

  program
    .command('demo')
    .description('start a local 3-node zk-elect cluster and three candidates, then kill things and time each re-election')
    .addOption(new Option('--candidates <n>', 'how many candidates').default(3).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 2 || n > 20) throw new UsageError(`--candidates must be a whole number from 2 to 20, got ${JSON.stringify(v)}`);
      return n;
    }))
    .addOption(new Option('--session-timeout <ms>', 'candidates\' session timeout').default(2000).argParser(parseMs('--session-timeout', 1000, 60_000)))
    .addOption(new Option('--keep', 'keep everything running after the demo until Ctrl-C').default(false))
    .addHelpText('after', '\nNeeds nothing but this package: the cluster is zk-elect\'s own ZooKeeper-compatible server.\n\nExamples:\n  zk-elect demo\n  zk-elect demo --candidates 5 --keep')
    .action(async (opts: DemoOptions) => (await import('./demo.js')).demoCommand(opts));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      // Thrown by an action after parsing (commander prints the ones its parsers throw).
      process.stderr.write(`zk-elect: ${e.message}\n(run with --help for usage)\n`);
      process.exit(EXIT_USAGE);
    }
    if (e instanceof CommanderError) {
      // Commander prints the errors of its own parsing (argument parsers included: it re-throws
      // them as plain CommanderErrors). A UsageError reaching here came from an action's own
      // checks, which nothing has printed yet.
      if (e instanceof UsageError) process.stderr.write(`zk-elect: ${e.message}\n(run with --help for usage)\n`);
      process.exit(e.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`zk-elect: ${message}\n`);
    if (!(e instanceof ZkElectError) && e instanceof Error && e.stack && process.env.ZK_ELECT_DEBUG) process.stderr.write(e.stack + '\n');
    process.exit(EXIT_FAILURE);
  }
}

await main(process.argv);
