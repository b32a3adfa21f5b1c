/**
 * Writes a report into its directory: latest.md, latest.json (every figure behind it) and the
 * SVG charts. The previous report's files there are removed first, so the directory holds
 * one report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderReport } from './render.js';
import { toSvg } from './svg.js';
import type { SuiteResults } from './types.js';

export async function writeReport(results: SuiteResults, dir: string): Promise<string[]> {
  const { markdown, charts } = renderReport(results);
  const svgs = await Promise.all(charts.map(async (c) => [c.file, await toSvg(c.spec)] as const));
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith('.svg') || name === 'latest.md' || name === 'latest.json') fs.rmSync(path.join(dir, name));
  }
  const files: string[] = [];
  const put = (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, name), text);
    files.push(path.join(dir, name));
  };
  put('latest.md', markdown);
  put('latest.json', JSON.stringify(results, null, 1) + '\n');
  for (const [file, svg] of svgs) put(file, svg + '\n');
  return files;
}
