/**
 * Runs only in the `slow` Playwright project: JupyterLab inside a new 1-CPU
 * quota cpu cgroup, with a test-only route that blocks the server's event
 * loop (see playwright.config.js). "Why is it slow?" must say: a notification
 * naming the code that blocked the server, and, once a notebook starts 2 busy
 * processes, the throttling line in the detail view, the CPU item's warning
 * with its reason, the kernel's waiting, and a held-back notification.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  blockTheLoop,
  CULPRIT,
  ITEM,
  newNotebookWithIdleKernel,
  readyMetrics,
  removeSetting,
  SCREENSHOTS,
  setSetting,
  SLOW_UNAVAILABLE,
  START_TWO_BUSY
} from './utils';

/** The Kernel usage panel's id, also its right-sidebar tab's `data-id`. */
const PANEL_ID = 'jp-ResourceMonitor-kernels';

/** The threshold settings of "Why is it slow?". */
const THRESHOLDS = [
  'throttleWarningPercent',
  'cpuWaitWarningPercent',
  'pressureWarningPercent',
  'blockedLoopNotifySeconds',
  'notifyHeldBack'
];

test.skip(!!SLOW_UNAVAILABLE, `no CPU quota here: ${SLOW_UNAVAILABLE}`);
test.describe.configure({ mode: 'serial' });

test.afterEach(async ({ page }) => {
  for (const key of ['refreshRate', ...THRESHOLDS]) {
    await removeSetting(page, key);
  }
});

test('a blocked server is named in a notification with the code that blocked it', async ({
  page
}) => {
  test.setTimeout(120_000);
  await setSetting(page, 'refreshRate', 1000);
  const before = await readyMetrics(page);
  expect(before.event_loop).toBeTruthy();
  expect(before.event_loop.blocks).toEqual([]);

  await blockTheLoop(page.request, 2);

  // The server recorded it, with the test's function as the culprit.
  const metrics = (await (
    await page.request.get('/api/metrics/v1')
  ).json()) as any;
  const block = metrics.event_loop.blocks[metrics.event_loop.blocks.length - 1];
  expect(block.duration_ms).toBeGreaterThanOrEqual(1500);
  expect(block.culprit.function).toBe('hold_the_loop');

  const toast = page.locator('.Toastify__toast', {
    hasText: 'The server was unresponsive'
  });
  await expect(toast).toBeVisible({ timeout: 30_000 });
  await expect(toast).toContainText(
    /^The server was unresponsive for [\d.]+ s at /
  );
  await expect(toast).toContainText(CULPRIT);
  await expect(toast).not.toHaveClass(/Toastify--animate/);
  await page.screenshot({ path: `${SCREENSHOTS}/diagnosis-blocked.png` });

  // The detail view tells it too.
  await page.locator(ITEM).click();
  const blocked = page.locator(
    '.jp-ResourceMonitor-diagnosis li[data-kind="blocked"]'
  );
  await expect(blocked).toContainText(CULPRIT);
  await page.keyboard.press('Escape');

  // The thresholds are in the Settings editor, with their defaults.
  await page.menu.clickMenuItem('Settings>Settings Editor');
  await page.locator('.jp-PluginList').getByText('Resource Monitor').click();
  const field = (key: string) =>
    page.locator(
      `[id="jp-SettingsEditor-jupyter-resource-monitor:plugin_${key}"]`
    );
  for (const key of THRESHOLDS) {
    await expect(field(key)).toBeVisible();
  }
  await expect(field('throttleWarningPercent')).toHaveValue('50');
  await expect(field('blockedLoopNotifySeconds')).toHaveValue('1');
});

test('under the 1-CPU quota, 2 busy processes: the throttling line, the CPU warning, the waiting', async ({
  page
}) => {
  test.setTimeout(240_000);
  await setSetting(page, 'refreshRate', 1000);
  const metrics = await readyMetrics(page);
  expect(metrics.cpu_throttle?.quota_cpus).toBe(1);
  const cpu = page.locator(`${ITEM} [data-metric="cpu"]`);
  await expect(cpu).toBeVisible();
  await expect(cpu).not.toHaveClass(/jp-mod-warn/);

  const { path: sessionPath } = await newNotebookWithIdleKernel(page);
  const fileName = sessionPath.split('/').pop()!;
  // The page has loaded: now start the work that the quota holds back.
  await page.notebook.setCell(0, 'code', START_TWO_BUSY);
  await page.notebook.selectCells(0);
  await page.keyboard.press('Control+Enter');

  // The CPU item turns to its warning state, the reason in its tooltip.
  await expect(cpu).toHaveClass(/jp-mod-warn/, { timeout: 60_000 });
  await expect(page.locator(ITEM)).toHaveAttribute(
    'title',
    /Held back: The 1-CPU limit held this server back in \d+% of the quota periods in which it had work/,
    // The share of throttled periods over the last minute passes half after a while.
    { timeout: 90_000 }
  );

  // The detail view's diagnosis names the limit, its figure, and what to do.
  await page.locator(ITEM).click();
  const detail = page.locator('.jp-ResourceMonitor-detail');
  const throttled = detail.locator(
    '.jp-ResourceMonitor-diagnosis li[data-kind="throttled"]'
  );
  await expect(throttled).toContainText(
    /^The 1-CPU limit held this server back in \d+% of the quota periods in which it had work, over the last [^:]+: use fewer threads or processes at once, e\.g\. OMP_NUM_THREADS=1, or ask for a larger server\.$/
  );
  const shown = Number(
    /in (\d+)% of the quota/.exec((await throttled.textContent())!)![1]
  );
  expect(shown).toBeGreaterThanOrEqual(50);
  await page.screenshot({ path: `${SCREENSHOTS}/diagnosis-throttled.png` });
  await page.keyboard.press('Escape');

  // The Kernel usage panel shows the kernel's waiting beside its CPU.
  await page.sidebar.openTab(PANEL_ID);
  const wait = page
    .locator(`#${PANEL_ID} .jp-ResourceMonitor-kernelWait`)
    .first();
  await expect(wait).toHaveText(/^waiting \d+(\.\d)?%$/, { timeout: 30_000 });
  await expect(wait).toHaveClass(/jp-mod-warn/, { timeout: 30_000 });
  // The panel's top, where the row is (a notification may cover its bottom).
  const box = (await page.locator(`#${PANEL_ID}`).boundingBox())!;
  await page.screenshot({
    path: `${SCREENSHOTS}/diagnosis-kernel-waiting.png`,
    clip: {
      x: box.x,
      y: box.y,
      width: box.width,
      height: Math.min(box.height, 260)
    }
  });

  // Held back most of a minute: one notification naming the notebook.
  const toast = page.locator('.Toastify__toast', {
    hasText: 'held back most of the last minute'
  });
  await expect(toast).toBeVisible({ timeout: 120_000 });
  await expect(toast).toContainText(
    new RegExp(
      `^${fileName.replace('.', '\\.')} was held back most of the last minute: the 1-CPU limit throttled \\d+% of the quota periods\\.`
    )
  );

  // A threshold set by the user applies at once: at 0 (never), no "held back".
  await setSetting(page, 'throttleWarningPercent', 0);
  await setSetting(page, 'cpuWaitWarningPercent', 0);
  await expect(page.locator(ITEM)).not.toHaveAttribute('title', /Held back/, {
    timeout: 10_000
  });

  // Stop the busy processes.
  await page.notebook.setCell(0, 'code', 'for p in busy: p.kill()');
  await page.notebook.runCell(0);
});
