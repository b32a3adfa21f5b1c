/**
 * Which four-letter words a server answers: ZooKeeper 3.8's `4lw.commands.whitelist`
 * (FourLetterCommands.isEnabled). The default is `srvr` alone, because `cons`, `dump`, `wchc`
 * and `wchp` hand session ids to anyone who can reach the client port. `srvr` is always on
 * (ZooKeeper's zkServer.sh status needs it, and so do our launchers).
 */
import { FOUR_LETTER_WORDS, type FourLetterWord } from '../../protocol/constants.js';

export type FourLetterWhitelist = ReadonlySet<FourLetterWord>;

export const DEFAULT_FOUR_LETTER_WHITELIST: FourLetterWhitelist = new Set<FourLetterWord>(['srvr']);

const KNOWN = new Set<string>(FOUR_LETTER_WORDS);

/**
 * "ruok, mntr", "*" (every word) or "": comma-separated, blanks ignored, as ZooKeeper reads
 * it. Unlike ZooKeeper, a word it does not know is refused (ZooKeeper silently ignores a typo
 * such as `mntrr` and the operator finds out when monitoring breaks).
 */
export function parseFourLetterWhitelist(list: string): FourLetterWhitelist {
  const out = new Set<FourLetterWord>(DEFAULT_FOUR_LETTER_WHITELIST);
  for (const raw of list.split(',')) {
    const word = raw.trim();
    if (word === '') continue;
    if (word === '*') return new Set(FOUR_LETTER_WORDS);
    if (!KNOWN.has(word)) throw new Error(`unknown four-letter word ${JSON.stringify(word)} in the whitelist (known: ${[...KNOWN].sort().join(', ')}, or *)`);
    out.add(word as FourLetterWord);
  }
  return out;
}

/** NopCommand's text for a word that is known but not enabled (PrintWriter.println). */
export function refusedWord(word: string): string {
  return `${word} is not executed because it is not in the whitelist.\n`;
}
