/**
 * Differential conformance, which four-letter words are answered: ZooKeeper 3.8 answers only
 * `srvr` by default (4lw.commands.whitelist) and refuses every other known word with one line
 * of text; a list (blanks allowed) or `*` opens more, and `srvr` stays on whatever the list
 * says. Both servers run with the same setting; zk-elect's is `--4lw-whitelist`.
 */
import { describe } from 'node:test';
import { startZooKeeper } from '../support/apache-zookeeper.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { conformanceSuite, SERVER_OPTIONS, type Ctx } from './framework.js';

const WORDS = ['ruok', 'srvr', 'stat', 'mntr', 'conf', 'cons', 'crst', 'srst', 'wchs', 'wchc', 'wchp', 'dump', 'dirs', 'isro', 'envi'];

/** What each word answers: the refusal verbatim, else only that it answered something else. */
async function answers(t: Ctx): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const word of WORDS) {
    const text = await t.fourLetter(word);
    out[word] = /is not executed because it is not in the whitelist/.test(text) ? JSON.stringify(text) : text.length > 0 ? 'answered' : 'empty';
  }
  return out;
}

const suite = (label: string, fourLetterWhitelist: string | null) =>
  describe(label, () => {
    const { scenario } = conformanceSuite(`fourletter-whitelist-${label.replace(/\W+/g, '-')}`, {
      apache: () => startZooKeeper({ ...SERVER_OPTIONS, controllable: true, fourLetterWhitelist }),
      ours: () => startZkElectServer({ ...SERVER_OPTIONS, fourLetterWhitelist }),
    });
    scenario(`${label}: which words are answered, and the refusal text`, async (t) => {
      const c = await t.raw();
      await c.create(`${t.root}/x`, 'x');
      t.note('answers', await answers(t));
      // A refused word still ends the connection cleanly, and the server serves on.
      t.note('a request after the refusals', (await c.getData(`${t.root}/x`)).errName);
    });
  });

suite('default whitelist', null);
suite('a list with blanks and without srvr', 'ruok, mntr ,,cons');
