import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { FIGURE_IDS } from '../src/figures/ids.js';
import { cleanupTmp } from './helpers/fig-fixtures.js';
import { buildReportFixture } from './helpers/fig-report.js';

/**
 * Opens reports/index.html (from file://, as a reader would) in headless
 * Chromium (Debian `chromium`, driven by playwright-core): fails on any
 * console error, page error or failed request, blocks every non-file
 * request (the report must work offline), and checks that every figure
 * rendered a non-empty SVG.
 */
const CHROMIUM = process.env.IWDL_CHROMIUM ?? '/usr/bin/chromium';

test('report in headless Chromium: every figure renders, no console errors, no failed or remote requests', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} not installed (apt-get install -y chromium)`, timeout: 120_000 }, async () => {
  const fx = await buildReportFixture();
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'iwdl-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      problems.push(`remote request: ${url}`);
      return route.abort();
    });
    await page.goto(pathToFileURL(join(fx.outDir, 'index.html')).href, { waitUntil: 'load' });
    // Page-side code as strings: this project compiles without the DOM library.
    await page.waitForFunction("document.body.dataset.rendered === '1'", undefined, { timeout: 60_000 });
    const status = (await page.evaluate(`[...document.querySelectorAll('.vis')].map((el) => {
      const svg = el.querySelector('svg');
      return { id: el.dataset.figure, rendered: el.dataset.rendered, marks: svg ? svg.querySelectorAll('path, rect, text, line').length : 0, width: svg ? svg.getBoundingClientRect().width : 0 };
    })`)) as Array<{ id: string; rendered: string; marks: number; width: number }>;
    assert.deepEqual(status.map((s) => s.id).sort(), [...FIGURE_IDS].sort());
    for (const s of status) {
      assert.equal(s.rendered, '1', `${s.id} did not render`);
      assert.ok(s.marks > 10 && s.width > 50, `${s.id}: empty SVG (${s.marks} marks, width ${s.width})`);
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    rmSync(fx.root, { recursive: true, force: true });
    cleanupTmp();
  }
});
