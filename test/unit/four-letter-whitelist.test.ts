import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FOUR_LETTER_WORDS } from '../../src/protocol/constants.js';
import { DEFAULT_FOUR_LETTER_WHITELIST, parseFourLetterWhitelist, refusedWord } from '../../src/server/admin/whitelist.js';

test('the default whitelist is srvr alone, as ZooKeeper 3.8', () => {
  assert.deepEqual([...DEFAULT_FOUR_LETTER_WHITELIST], ['srvr']);
});

test('a list is read as ZooKeeper reads it: commas, blanks ignored, srvr always on, * for all', () => {
  assert.deepEqual([...parseFourLetterWhitelist('ruok, mntr ,,cons')].sort(), ['cons', 'mntr', 'ruok', 'srvr']);
  assert.deepEqual([...parseFourLetterWhitelist('')], ['srvr']);
  assert.deepEqual([...parseFourLetterWhitelist('ruok,*')].sort(), [...FOUR_LETTER_WORDS].sort());
  assert.deepEqual([...parseFourLetterWhitelist(' * ')].sort(), [...FOUR_LETTER_WORDS].sort());
});

test('an unknown word is refused rather than silently ignored', () => {
  assert.throws(() => parseFourLetterWhitelist('ruok,mntrr'), /unknown four-letter word "mntrr"/);
  assert.throws(() => parseFourLetterWhitelist('RUOK'), /unknown four-letter word/);
});

test('the refusal is NopCommand\'s line', () => {
  assert.equal(refusedWord('cons'), 'cons is not executed because it is not in the whitelist.\n');
});
