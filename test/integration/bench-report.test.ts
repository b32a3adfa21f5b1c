/**
 * The benchmark suite end to end on a small real run: `bench/suite.ts --quick --parts
 * throughput` against real Apache ZooKeeper and zk-elect's server, then its report. The
 * Markdown's tables, fences and image links must be well formed and its figures those of
 * the run; every SVG chart must parse as SVG in a real browser (Debian's chromium) and draw
 * marks. The full suite is a benchmark (`npm run bench`), never run by the tests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import type { SuiteResults, ThroughputData } from '../../bench/report/types.js';
import { num } from '../../bench/report/markdown.js';
import { requirePart } from '../support/require-part.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
requirePart(haveChromium, CHROMIUM, "apt-get install -y chromium");

/** Cells of a GFM table row; `\|` is a pipe inside a cell. */
const cells = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/);

/** Problems in the Markdown: tables with ragged rows, unbalanced fences, images that are not there. */
function markdownProblems(md: string, dir: string): string[] {
  const problems: string[] = [];
  const lines = md.split('\n');
  let fence = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) fence = !fence;
    if (fence || !line.startsWith('|')) continue;
    if (i > 0 && lines[i - 1]!.startsWith('|')) continue; // not the first line of a table
    const width = cells(line).length;
    if (!/^\|(\s*:?-{3,}:?\s*\|)+$/.test(lines[i + 1] ?? '')) problems.push(`line ${i + 2}: a table header without a separator row`);
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith('|'); j++) {
      if (cells(lines[j]!).length !== width) problems.push(`line ${j + 1}: ${cells(lines[j]!).length} cells, the header has ${width}`);
    }
  }
  if (fence) problems.push('a code fence is never closed');
  for (const m of md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) if (!existsSync(path.join(dir, m[1]!))) problems.push(`image ${m[1]} is missing`);
  for (const bad of ['NaN', 'undefined', '[object', 'Infinity']) if (md.includes(bad)) problems.push(`"${bad}" in the text`);
  return problems;
}

test('npm run bench: a small real run writes a valid report of its own figures', { timeout: 300_000 }, async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'bench-report-'));
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/suite.ts', '--quick', '--parts', 'throughput', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 280_000 });
    assert.equal(run.status, 0, `suite failed:\n${run.stderr.slice(-3000)}`);
    assert.match(run.stderr, /suite: part 1\/1: throughput done/, 'progress on stderr');
    assert.equal(run.stdout.trim(), path.join(out, 'latest.md'));

    const md = readFileSync(path.join(out, 'latest.md'), 'utf8');
    const results = JSON.parse(readFileSync(path.join(out, 'latest.json'), 'utf8')) as SuiteResults;
    const data = results.parts[0]!.data as ThroughputData;
    assert.equal(results.quick, true);
    assert.equal(data.cells.length, 2 * 3 * 3, 'both servers x 3 ops x 3 in-flight counts');
    for (const c of data.cells) assert.ok(c.opsPerSec > 0 && c.latency.n > 0, `${c.server} ${c.op} at ${c.inflight}: no completed requests`);

    assert.deepEqual(markdownProblems(md, out), []);
    assert.match(md, /QUICK SMOKE RUN/);
    // The machine and the versions, read off this machine.
    const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    for (const s of [os.cpus()[0]!.model.trim(), `${os.cpus().length} cores`, process.version, commit, 'Apache ZooKeeper 3.8']) assert.ok(md.includes(s), `the report names ${s}`);
    assert.match(md, /openjdk version|java version/i);
    // The exact commands.
    assert.ok(md.includes('node --import tsx bench/suite.ts --quick --parts throughput --out'), 'the suite command');
    assert.ok(md.includes('node --import tsx bench/server.ts --seconds 0.5'), "the part's command");
    // Headline figures are the run's: getData at 128 in flight, mean over trials, both servers.
    for (const server of ['apache', 'zk-elect'] as const) {
      const cs = data.cells.filter((c) => c.server === server && c.op === 'getData' && c.inflight === 128);
      const ops = cs.reduce((s, c) => s + c.opsPerSec, 0) / cs.length;
      const row = md.split('\n').find((l) => l.startsWith('| getData throughput, 128 in flight'));
      assert.ok(row, 'a headline row for getData at 128 in flight');
      assert.ok(cells(row).map((c) => c.trim()).includes(num(ops)), `${server}'s getData ops/s (${num(ops)}) in ${row}`);
    }

    // Every chart is an SVG that a browser parses and that draws marks.
    const svgs = readdirSync(out).filter((f) => f.endsWith('.svg'));
    assert.deepEqual(svgs.sort(), ['latency-p99.svg', 'throughput.svg']);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      for (const f of svgs) {
        const text = readFileSync(path.join(out, f), 'utf8');
        // Runs in the page (a string: the test's TypeScript has no DOM types).
        const r = (await page.evaluate(`(() => {
          const doc = new DOMParser().parseFromString(${JSON.stringify(text)}, 'image/svg+xml');
          const err = doc.querySelector('parsererror');
          document.body.replaceChildren(document.importNode(doc.documentElement, true));
          const svg = document.querySelector('svg');
          return { err: err ? err.textContent : null, root: doc.documentElement.nodeName, width: svg ? svg.getBoundingClientRect().width : 0, bars: document.querySelectorAll('.mark-rect path').length };
        })()`)) as { err: string | null; root: string; width: number; bars: number };
        assert.equal(r.err, null, `${f} parses`);
        assert.equal(r.root, 'svg');
        assert.ok(r.width > 100, `${f} has a size`);
        assert.equal(r.bars, 2 * 3 * 3, `${f}: a bar per server, op and in-flight count`);
      }
    } finally {
      await browser.close();
    }

    // The report again from its own figures: the same Markdown.
    const again = mkdtempSync(path.join(os.tmpdir(), 'bench-report-again-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/suite.ts', '--render', path.join(out, 'latest.json'), '--out', again], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(path.join(again, 'latest.md'), 'utf8'), md);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
