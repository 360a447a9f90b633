/**
 * Runs only in the `guard-notebook7` Playwright project: Jupyter Notebook 7
 * inside a 700 MiB memory cgroup with the memory guard on. A runaway cell gets
 * a MemoryError and Notebook 7 names the notebook and the cell, as JupyterLab
 * does (guard.spec.ts).
 *
 * Plain Playwright (Galata's fixtures drive JupyterLab's own pages).
 */
import { expect, test } from '@playwright/test';

import {
  ALLOCATE_FOREVER,
  codeCell,
  OOM_UNAVAILABLE,
  putNotebook,
  SCREENSHOTS
} from './utils';

const NOTEBOOK = 'nb7-guard.ipynb';

test.skip(!!OOM_UNAVAILABLE, `no memory cgroup here: ${OOM_UNAVAILABLE}`);

test('Notebook 7 names the cell that asked for more memory than was left', async ({
  page,
  request
}) => {
  test.setTimeout(180_000);
  await putNotebook(request, NOTEBOOK, [codeCell('hog', ALLOCATE_FOREVER)]);

  await page.goto(`/notebooks/${NOTEBOOK}`);
  await expect(
    page.getByRole('banner').locator('#jp-ResourceMonitor-kernelStatus')
  ).toContainText(/Kernel: [1-9][\d.]* (KiB|MiB|GiB)/, { timeout: 60_000 });
  await page.locator('.jp-Cell .jp-InputArea-editor').first().click();
  await page.keyboard.press('Control+Enter');

  const toast = page.locator('.Toastify__toast', {
    hasText: 'asked for more memory'
  });
  await expect(toast).toBeVisible({ timeout: 120_000 });
  await expect(toast).toContainText(
    /^Cell \[1\] of nb7-guard\.ipynb asked for more memory than (the [\d.]+ MiB left|is left) under the 700 MiB limit\. Its kernel and variables are kept\./
  );
  await expect(toast).not.toHaveClass(/Toastify--animate/);
  await page.screenshot({ path: `${SCREENSHOTS}/notebook7-guard.png` });

  const guard = await (await request.get('/api/metrics/v1/guard')).json();
  expect(guard.events.map((e: any) => [e.action, e.path, e.cell_id])).toEqual([
    ['fenced', NOTEBOOK, 'hog']
  ]);
  const events = await (await request.get('/api/metrics/v1/events')).json();
  expect(events.events).toEqual([]);
});
