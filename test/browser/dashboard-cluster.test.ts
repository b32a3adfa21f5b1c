/**
 * The dashboard of a real 3-process zk-elect cluster in Chromium: the node table lists all
 * three nodes with their roles; clicking Kill on the leader's row (the launcher kill -9s
 * that process) shows up on the page as the old leader going down and another node becoming
 * leader; Restart brings it back as a follower. Screenshot: test-artifacts/dashboard-cluster.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import type { ZkEnsemble } from '../../src/launcher/types.js';
import { eventually } from '../../src/launcher/cli-process.js';
import { startZkElectCluster } from '../../src/launcher/zk-elect-cluster.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
if (!existsSync(CHROMIUM) && process.env.CI) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);

let zk: ZkEnsemble | undefined;
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await zk?.stop();
});

test('a kill -9 of the cluster leader shows up on the dashboard as a new leader', { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}` }, async () => {
  zk = await startZkElectCluster({ nodes: 3, controllable: true, withAdmin: true, control: true });
  const config = JSON.parse(readFileSync(path.join(path.dirname(zk.members[0]!.dir!), 'cluster.json'), 'utf8')) as { servers: Array<{ id: number; adminPort: number }> };
  const leader = await eventually(() => zk!.leader(), 20_000, 'a leader');
  const viewer = config.servers.find((s) => s.id !== leader.id)!;
  const base = `http://127.0.0.1:${viewer.adminPort}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  await page.goto(`${base}/`);
  const role = async (id: number) => ((await page.locator(`tr[data-node-id="${id}"] [data-testid=role]`).first().textContent({ timeout: 2000 })) ?? '').trim();
  await eventually(async () => (await role(leader.id)) === 'leader', 15_000, `node ${leader.id} shown as leader`);
  // The viewer polls its peers; a follower still syncing when the page first loads may show
  // as down for a refresh or two, so wait for the rows to settle rather than read them once.
  for (const s of config.servers) if (s.id !== leader.id) await eventually(async () => (await role(s.id)) === 'follower', 15_000, `node ${s.id} shown as follower`);

  page.on('dialog', (d) => void d.accept()); // the Kill button asks for confirmation
  await page.locator(`tr[data-node-id="${leader.id}"] button[data-action=kill]`).click();
  const fresh = await eventually(async () => {
    for (const s of config.servers) if (s.id !== leader.id && (await role(s.id)) === 'leader') return s.id;
    return undefined;
  }, 20_000, 'another node shown as leader');
  await eventually(async () => (await role(leader.id)) === 'down', 10_000, `node ${leader.id} shown as down`);
  assert.notEqual(fresh, leader.id);
  assert.equal(leader.running, false, 'the launcher really killed the process');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-cluster.png'), fullPage: true });

  await page.locator(`tr[data-node-id="${leader.id}"] button[data-action=restart]`).click();
  await eventually(async () => (await role(leader.id)) === 'follower', 30_000, `node ${leader.id} back as a follower`);
});
