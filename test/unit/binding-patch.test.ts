/**
 * The install-time patch of the `zookeeper` binding (src/binding/patch-zookeeper-binding.mjs):
 * every edit matches the pristine source exactly once, patching is repeatable, and the binding
 * this process loads is the patched build. The behaviour it fixes is tested against a real
 * paused server in test/integration/binding-fd.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { EDITS, PATCH_VERSION, patchSource } from '../../src/binding/patch-zookeeper-binding.mjs';
import { bindingPatchVersion } from '../../src/election/native-handle.js';

const require = createRequire(import.meta.url);
const packageDir = path.dirname(require.resolve('zookeeper/package.json'));
const source = path.join(packageDir, 'src', 'node-zk.cpp');
const FIX = 'run `npm install` (its postinstall runs src/binding/patch-zookeeper-binding.mjs), or run that script by hand';

test('every edit applies exactly once to the pristine binding source, and patching is repeatable', () => {
  const pristinePath = `${source}.zk-elect-orig`;
  assert.ok(fs.existsSync(pristinePath), `no pristine copy of the binding source at ${pristinePath}: ${FIX}`);
  const pristine = fs.readFileSync(pristinePath, 'utf8');
  const once = patchSource(pristine);
  assert.deepEqual(once.missing, undefined, 'edits that did not match');
  for (const edit of EDITS) assert.ok(once.text!.includes(edit.replace), edit.why);
  assert.equal(patchSource(pristine).text, once.text, 'the same input gives the same output');
  assert.equal(fs.readFileSync(source, 'utf8'), once.text, `the installed source is the patched one: ${FIX}`);
  // A binding of another version (the snippets moved) is reported, not half-patched.
  const other = patchSource(pristine.replace('zookeeper_interest returned error', 'interest failed'));
  assert.equal(other.text, undefined);
  assert.equal(other.missing?.length, 1);
});

test('the binding this process loads is the patched build', () => {
  const Native = require('zookeeper') as new (config: Record<string, unknown>) => unknown;
  const client = new Native({ connect: '127.0.0.1:1', timeout: 1000 });
  assert.equal(bindingPatchVersion(client), PATCH_VERSION, `the loaded zookeeper.node lacks zk-elect's patch: ${FIX}`);
  const script = path.resolve('src/binding/patch-zookeeper-binding.mjs');
  execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' }); // throws (exit 1) when not patched and rebuilt
});
