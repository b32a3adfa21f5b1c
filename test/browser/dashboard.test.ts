/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core): the node
 * table updates live, the election panel follows a leader change, the tree browser shows a
 * znode's data and Stat, and a screenshot lands in test-artifacts/dashboard.png.
 *
 * Needs /usr/bin/chromium (`apt-get install -y chromium`; override with CHROMIUM_PATH).
 * Without it the suite fails at once, saying how to install it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { LeaderElection } from '../../src/election/election.js';
import { ZkSession } from '../../src/election/session.js';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { eventually } from '../../src/launcher/cli-process.js';
import { freePorts } from '../../src/launcher/ports.js';
import { startZkElectServer } from '../support/zk-elect-server.js';
import { requirePart } from '../support/require-part.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
const haveChromium = existsSync(CHROMIUM);
requirePart(haveChromium, CHROMIUM, 'apt-get install -y chromium');

describe('dashboard in chromium', () => {
  let zk: ZkEnsemble;
  let browser: Browser;
  let page: Page;
  let base: string;
  let session: ZkSession;
  const pageErrors: string[] = [];
  const closers: Array<() => Promise<void>> = [];

  const text = async (selector: string) => ((await page.locator(selector).first().textContent({ timeout: 2000 })) ?? '').trim();
  const nodeZxid = async (): Promise<string> => {
    const r = await fetch(`${base}/api/node`);
    return ((await r.json()) as { zxid: string }).zxid;
  };

  before(async () => {
    const [adminPort] = await freePorts(1);
    zk = await startZkElectServer({ serverArgs: ['--admin-port', String(adminPort)] });
    base = `http://127.0.0.1:${adminPort}`;
    session = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 960 } });
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(`console: ${m.text()}`);
    });
    // Nothing but the admin server may be contacted.
    await page.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
    await page.goto(`${base}/`);
  });
  after(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await browser?.close();
    await session?.close();
    await zk?.stop();
  });

  test('the node table shows the node and a zxid that follows writes', async () => {
    await page.locator('tr[data-node-id="0"]').waitFor({ timeout: 10_000 });
    assert.equal(await text('tr[data-node-id="0"] [data-testid=role]'), 'standalone');
    await eventually(async () => (await text('[data-testid=connection]')) === 'live', 5000, 'the event stream to be live');
    assert.equal(await page.locator('tr[data-node-id="0"] .tag').textContent(), 'this');

    const before = await text('tr[data-node-id="0"] [data-testid=zxid]');
    await session.create('/dash', Buffer.from('dashboard root'), 'persistent');
    await session.create('/dash/child', Buffer.from('hello dashboard'), 'persistent');
    const expected = await nodeZxid();
    assert.notEqual(expected, before);
    await eventually(async () => (await text('tr[data-node-id="0"] [data-testid=zxid]')) === expected, 5000, `the zxid cell to show ${expected}`);
    assert.ok(Number(await text('tr[data-node-id="0"] [data-testid=sessions]')) >= 1);

    // No launcher: the control buttons are there, disabled, and say why.
    const kill = page.locator('tr[data-node-id="0"] button[data-action=kill]');
    assert.equal(await kill.isDisabled(), true);
    assert.match((await kill.getAttribute('title')) ?? '', /unavailable/);
  });

  test('the election panel shows the leader, then the new leader after it resigns, candidate metadata and a named handoff', async () => {
    const join = async (id: string, meta?: Record<string, unknown>) => {
      const s = await ZkSession.connect({ connect: zk.connectString, sessionTimeoutMs: 10_000 });
      const e = new LeaderElection(s, { path: '/election', id, meta });
      closers.push(async () => {
        await e.close();
        await s.close();
      });
      await e.join();
      return e;
    };
    const alpha = await join('alpha');
    const beta = await join('beta');
    const gamma = await join('gamma', { zone: 'eu-1', build: 42 });
    const first = await alpha.waitForLeadership({ timeoutMs: 5000 });
    await eventually(async () => (await text('[data-testid=election-leader]')) === 'alpha', 5000, 'alpha shown as leader');
    assert.equal(await text('[data-testid=fencing-token]'), first.token.toString());
    // The panel may show the leader a refresh before it lists the last candidate to join.
    const candidates = () => page.locator('[data-testid=candidates] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-candidate')).join(','));
    await eventually(async () => (await candidates()) === 'alpha,beta,gamma', 5000, 'all three candidates listed in order');
    assert.match((await page.locator('[data-testid=candidates] li.leader').getAttribute('data-candidate')) ?? '', /^alpha$/);

    // The standalone stand-in for "a killed leader shows up as a new leader".
    await alpha.resign();
    const second = await beta.waitForLeadership({ timeoutMs: 5000 });
    await eventually(async () => (await text('[data-testid=election-leader]')) === 'beta', 5000, 'beta shown as the new leader');
    assert.equal(await text('[data-testid=fencing-token]'), second.token.toString());
    assert.ok(second.token > first.token);
    assert.deepEqual(await page.locator('[data-testid=candidates] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-candidate'))), ['beta', 'gamma']);
    assert.equal(await text('[data-testid=candidates] li[data-candidate=gamma] [data-testid=candidate-meta]'), 'zone=eu-1  build=42');
    assert.equal(await page.locator('[data-testid=candidates] li[data-candidate=beta] [data-testid=candidate-meta]').count(), 0, 'no metadata, no line');

    // Named handoff: gamma takes the lead on a seat, beta waits right behind it.
    await beta.resign({ to: 'gamma' });
    const third = await gamma.waitForLeadership({ timeoutMs: 5000 });
    await eventually(async () => (await text('[data-testid=election-leader]')) === 'gamma', 5000, 'gamma shown as the new leader');
    assert.equal(await text('[data-testid=fencing-token]'), third.token.toString());
    assert.deepEqual(await page.locator('[data-testid=candidates] li').evaluateAll((els) => els.map((e) => e.getAttribute('data-candidate'))), ['gamma', 'beta']);
    assert.match(await text('[data-testid=candidates] li[data-candidate=gamma] .cnode'), /seat: named handoff/);
  });

  test('the tree browser expands a path and shows a znode with its Stat; the game panel shows the game state', async () => {
    await page.locator('[data-testid=tree] .row[title="/dash"]').click();
    await page.locator('[data-testid=tree] .row[title="/dash/child"]').waitFor({ timeout: 5000 });
    await page.locator('[data-testid=tree] .row[title="/dash/child"]').click();
    await eventually(async () => (await text('[data-testid=detail-path]')) === '/dash/child', 5000, 'the detail of /dash/child');
    assert.equal(await text('[data-testid=detail-data]'), 'hello dashboard');
    const stat = (await page.locator('[data-testid=stat]').innerText()).replace(/\s+/g, ' ');
    assert.match(stat, /dataLength 15/);
    assert.match(stat, /numChildren 0/);
    assert.match(stat, /version 0/);
    assert.match(stat, /czxid 0x[0-9a-f]+/);

    await session.create('/game', Buffer.from(JSON.stringify({ round: 1, range: [1, 100], guesses: [{ player: 'alice', guess: 50, answer: 'lower' }] })), 'persistent');
    await eventually(async () => (await text('[data-testid=game-state]')).includes('"round": 1'), 5000, 'the game state');
    assert.match(await text('[data-testid=game-state]'), /"player": "alice"/);

    // Leave the page on something worth looking at, then keep a picture of it.
    await page.locator('[data-testid=tree] .row[title="/election"]').click();
    await page.waitForTimeout(600);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(statSync(file).size > 10_000, 'a real screenshot was written');
  });

  test('no script errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
