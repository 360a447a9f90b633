/**
 * Runs only in the `oom` Playwright project: JupyterLab inside a 700 MiB
 * memory cgroup (see playwright.config.js). A notebook's kernel allocates
 * until the kernel's OOM killer ends it; JupyterLab must say so.
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

/** The Kernel usage panel's id, also its right-sidebar tab's `data-id`. */
const PANEL_ID = 'jp-ResourceMonitor-kernels';

test.skip(!!OOM_UNAVAILABLE, `no real OOM kill here: ${OOM_UNAVAILABLE}`);

test('a kernel ended by the OOM killer is named in a notification', async ({
  page
}) => {
  test.setTimeout(180_000);
  await setSetting(page, 'refreshRate', 1000);
  const metrics = await readyMetrics(page);
  expect(metrics.memory.figure).toBe('working_set');
  expect(metrics.memory.limit).toBe(700 * 2 ** 20);

  const { path: sessionPath } = await newNotebookWithIdleKernel(page);
  const fileName = sessionPath.split('/').pop()!;
  await page.notebook.setCell(0, 'code', ALLOCATE_FOREVER);
  await page.notebook.selectCells(0);
  await page.keyboard.press('Control+Enter');

  // The notification, through JupyterLab's notification system.
  const toast = page.locator('.Toastify__toast', {
    hasText: 'ran out of memory'
  });
  await expect(toast).toBeVisible({ timeout: 120_000 });
  await expect(toast).toContainText(
    new RegExp(
      `^${fileName.replace('.', '\\.')}: the kernel was stopped because it ran out of memory \\(it used [\\d.]+ MiB; this server may use 700 MiB\\)`
    )
  );
  // JupyterLab's own dialog says only that the kernel "appears to have died".
  await expect(toast).not.toHaveClass(/Toastify--animate/); // settled in place
  await page.screenshot({ path: `${SCREENSHOTS}/oom-notification.png` });
  // Dismiss JupyterLab's dialogs about the restart (it may show more than one).
  const accept = page.locator('.jp-Dialog .jp-mod-accept');
  while ((await accept.count()) > 0) {
    await accept.first().click();
  }

  // The same event from the server, for the notebook's kernel.
  const events = (
    await (await page.request.get('/api/metrics/v1/events')).json()
  ).events;
  expect(events).toHaveLength(1);
  expect(events[0].path).toBe(sessionPath);
  expect(events[0].type).toBe('oom_kill');

  // The Kernel usage panel keeps it on the kernel's row.
  await page.sidebar.openTab(PANEL_ID);
  const row = page.locator(
    `#${PANEL_ID} .jp-ResourceMonitor-kernelRow[data-kernel-id="${events[0].kernel_id}"]`
  );
  await expect(row.locator('.jp-ResourceMonitor-kernelOom')).toContainText(
    'Ran out of memory at',
    { timeout: 30_000 }
  );
  await expect(row.locator('.jp-ResourceMonitor-kernelName')).toHaveText(
    fileName
  );

  // The detail view: the working set against the limit, split, and by notebook.
  await page.locator(ITEM).click();
  const detail = page.locator('.jp-ResourceMonitor-detail');
  await expect(detail.locator('.jp-ResourceMonitor-breakdown')).toContainText(
    'What the limit counts: working set'
  );
  await expect(detail.locator('.jp-ResourceMonitor-owners')).toContainText(
    fileName,
    { timeout: 30_000 }
  );
  await detail.screenshot({ path: `${SCREENSHOTS}/detail-working-set.png` });
});
