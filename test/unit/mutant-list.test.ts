/** Every mutant of `npm run sim:mutants` still applies: its text occurs exactly once, so the list cannot rot silently. */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MUTANTS } from '../sim/mutant-list.js';
import { applyMutant } from '../sim/mutants.js';

const root = path.resolve(import.meta.dirname, '..', '..');

test('every mutant applies to the current source exactly once, and changes it', () => {
  assert.ok(MUTANTS.length >= 12, `${MUTANTS.length} mutants`);
  assert.equal(new Set(MUTANTS.map((m) => m.name)).size, MUTANTS.length, 'unique names');
  const dir = mkdtempSync(path.join(tmpdir(), 'zk-elect-mutant-check-'));
  try {
    for (const m of MUTANTS) {
      const file = path.join(dir, m.name);
      cpSync(path.join(root, m.file), path.join(file, m.file));
      applyMutant(file, m);
      assert.notEqual(readFileSync(path.join(file, m.file), 'utf8'), readFileSync(path.join(root, m.file), 'utf8'), m.name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
