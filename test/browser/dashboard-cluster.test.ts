/**
 * The dashboard of a real 3-process zk-elect cluster in Chromium: the node table lists all
 * three nodes with their roles; Kill with a wrong admin token is refused and kills nothing;
 * opened from the URL the launcher prints (#token=...), clicking Kill on the leader's row (the
 * launcher kill -9s that process) shows up on the page as the old leader going down and
 * another node becoming leader; Restart brings it back as a follower. Screenshot:
 * test-artifacts/dashboard-cluster.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { eventually } from '../../src/launcher/cli-process.js';
import { startZkElectCluster, type ZkElectCluster } from '../../src/launcher/zk-elect-cluster.js';
import { requirePart } from '../support/require-part.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts');
requirePart(existsSync(CHROMIUM), CHROMIUM, 'apt-get install -y chromium');

let zk: ZkElectCluster | undefined;
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await zk?.stop();
});

test('a kill -9 of the cluster leader shows up on the dashboard as a new leader', async () => {
  zk = await startZkElectCluster({ nodes: 3, controllable: true, withAdmin: true, control: true });
  const servers = zk.members.map((m) => ({ id: m.id }));
  const leader = await eventually(() => zk!.leader(), 20_000, 'a leader');
  const viewer = servers.find((s) => s.id !== leader.id)!;
  const base = zk.adminUrls.get(viewer.id)!.replace(/\/$/, '');
  const token = zk.adminToken.token;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.route('**/*', (route) => (route.request().url().startsWith(base) ? route.continue() : route.abort()));
  const role = async (id: number) => ((await page.locator(`tr[data-node-id="${id}"] [data-testid=role]`).first().textContent({ timeout: 2000 })) ?? '').trim();
  // The Kill button asks for confirmation, and for the admin token when the page has none.
  const prompts: string[] = [];
  page.on('dialog', (d) => {
    if (d.type() === 'prompt') prompts.push(d.message());
    void (d.type() === 'prompt' ? d.accept('not-the-admin-token-0123456789abcdef') : d.accept());
  });

  // Without the token (a page opened by hand): asked for it, a wrong one is refused, nothing dies.
  await page.goto(`${base}/`);
  await eventually(async () => (await role(leader.id)) === 'leader', 15_000, `node ${leader.id} shown as leader`);
  // The viewer polls its peers; a follower still syncing when the page first loads may show
  // as down for a refresh or two, so wait for the rows to settle rather than read them once.
  for (const s of servers) if (s.id !== leader.id) await eventually(async () => (await role(s.id)) === 'follower', 15_000, `node ${s.id} shown as follower`);
  await page.locator(`tr[data-node-id="${leader.id}"] button[data-action=kill]`).click();
  await eventually(async () => /wrong admin token/.test((await page.locator('#nodes-error').textContent()) ?? ''), 5000, 'the refusal shown');
  assert.equal(prompts.length, 1, 'asked for the token');
  assert.equal(leader.running, true, 'a wrong token killed nothing');
  assert.equal(await role(leader.id), 'leader');

  // From the printed URL: the token is taken out of the address bar, and links to the peers' dashboards carry it.
  await page.goto(`${base}/#token=${token}`);
  await eventually(async () => (await role(leader.id)) === 'leader', 15_000, `node ${leader.id} shown as leader`);
  assert.equal(new URL(page.url()).hash, '', 'the token left the address bar');
  const peerLink = `${zk.adminUrls.get(leader.id)}#token=${token}`;
  await eventually(async () => (await page.locator(`tr[data-node-id="${leader.id}"] a`).first().getAttribute('href')) === peerLink, 5000, 'the link to the peer dashboard to carry the token');
  await page.locator(`tr[data-node-id="${leader.id}"] button[data-action=kill]`).click();
  const fresh = await eventually(async () => {
    for (const s of servers) if (s.id !== leader.id && (await role(s.id)) === 'leader') return s.id;
    return undefined;
  }, 20_000, 'another node shown as leader');
  await eventually(async () => (await role(leader.id)) === 'down', 10_000, `node ${leader.id} shown as down`);
  assert.notEqual(fresh, leader.id);
  assert.equal(leader.running, false, 'the launcher really killed the process');
  assert.equal(prompts.length, 1, 'not asked again: the token came with the URL');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-cluster.png'), fullPage: true });

  await page.locator(`tr[data-node-id="${leader.id}"] button[data-action=restart]`).click();
  await eventually(async () => (await role(leader.id)) === 'follower', 30_000, `node ${leader.id} back as a follower`);
});
