/**
 * Runs only in the `guard` Playwright project: JupyterLab inside a 700 MiB
 * memory cgroup with the memory guard on (see playwright.config.js). A cell
 * that allocates without end gets a MemoryError; the kernel lives on with its
 * variables, and JupyterLab says so: a notification naming the notebook and
 * the cell, the cell's cost line marked, the guard's line in the detail view.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  ALLOCATE_FOREVER,
  ITEM,
  newNotebookWithIdleKernel,
  OOM_UNAVAILABLE,
  readyMetrics,
  SCREENSHOTS,
  setSetting
} from './utils';

test.skip(!!OOM_UNAVAILABLE, `no memory cgroup here: ${OOM_UNAVAILABLE}`);

test('a runaway cell gets a MemoryError, the kernel is kept, and the user is told', async ({
  page
}) => {
  test.setTimeout(180_000);
  await setSetting(page, 'refreshRate', 1000);
  const metrics = await readyMetrics(page);
  expect(metrics.guard.enabled).toBe(true);
  expect(metrics.guard.limit).toBe(700 * 2 ** 20);

  const { path: sessionPath } = await newNotebookWithIdleKernel(page);
  const fileName = sessionPath.split('/').pop()!;
  // Every cell written first: running one may add an empty cell after it.
  await page.notebook.setCell(0, 'code', "kept = 'my variables'");
  await page.notebook.addCell('code', ALLOCATE_FOREVER);
  await page.notebook.addCell('code', 'del hog\nprint(kept)');
  await page.notebook.runCell(0);
  await page.notebook.runCell(1);

  const toast = page.locator('.Toastify__toast', {
    hasText: 'asked for more memory'
  });
  await expect(toast).toBeVisible({ timeout: 120_000 });
  await expect(toast).toContainText(
    new RegExp(
      `^Cell \\[2\\] of ${fileName.replace('.', '\\.')} asked for more memory than (the [\\d.]+ MiB left|is left) under the 700 MiB limit\\. Its kernel and variables are kept\\.`
    )
  );
  await expect(toast).not.toHaveClass(/Toastify--animate/);
  await page.screenshot({ path: `${SCREENSHOTS}/guard-notification.png` });

  // The cell ended with the error; its cost line says the guard refused it.
  const cell = page.locator('.jp-Notebook .jp-CodeCell').nth(1);
  await expect(cell.locator('.jp-OutputArea')).toContainText('MemoryError');
  await expect(cell.locator('.jp-ResourceMonitor-cellFigures')).toContainText(
    'memory refused, kernel kept',
    { timeout: 30_000 }
  );

  // The same kernel answers with its variables.
  await page.notebook.runCell(2);
  await expect(
    page.locator('.jp-Notebook .jp-CodeCell').nth(2).locator('.jp-OutputArea')
  ).toContainText('my variables');

  const guard = await (await page.request.get('/api/metrics/v1/guard')).json();
  expect(guard.events.map((e: any) => [e.action, e.path])).toEqual([
    ['fenced', sessionPath]
  ]);
  const events = await (
    await page.request.get('/api/metrics/v1/events')
  ).json();
  expect(events.events).toEqual([]); // no OOM kill

  // The detail view says the guard is on and what is left.
  await page.locator(ITEM).click();
  await expect(page.locator('.jp-ResourceMonitor-detail')).toContainText(
    /Memory guard: on\. [\d.]+ (MiB|GiB) left under the 700 MiB limit/
  );
});
