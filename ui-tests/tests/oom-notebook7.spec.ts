/**
 * Runs only in the `oom-notebook7` Playwright project: Jupyter Notebook 7
 * inside a 700 MiB memory cgroup (see playwright.config.js). A notebook's
 * kernel allocates until the kernel's OOM killer ends it; Notebook 7 must
 * say so, as JupyterLab does (oom.spec.ts).
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

const NOTEBOOK = 'nb7-oom.ipynb';

test.skip(!!OOM_UNAVAILABLE, `no real OOM kill here: ${OOM_UNAVAILABLE}`);

test('Notebook 7 names the notebook whose kernel ran out of memory', async ({
  page,
  request
}) => {
  test.setTimeout(180_000);
  await putNotebook(request, NOTEBOOK, [codeCell('hog', ALLOCATE_FOREVER)]);

  await page.goto(`/notebooks/${NOTEBOOK}`);
  // Run the cell once the kernel is idle (the kernel item shows its memory then).
  await expect(
    page.getByRole('banner').locator('#jp-ResourceMonitor-kernelStatus')
  ).toContainText(/Kernel: [1-9][\d.]* (KiB|MiB|GiB)/, { timeout: 60_000 });
  await page.locator('.jp-Cell .jp-InputArea-editor').first().click();
  await page.keyboard.press('Control+Enter');

  const toast = page.locator('.Toastify__toast', {
    hasText: 'ran out of memory'
  });
  await expect(toast).toBeVisible({ timeout: 120_000 });
  await expect(toast).toContainText(
    /^nb7-oom\.ipynb: the kernel was stopped because it ran out of memory \(it used [\d.]+ MiB; this server may use 700 MiB\)/
  );
  await expect(toast).not.toHaveClass(/Toastify--animate/);
  await page.screenshot({ path: `${SCREENSHOTS}/notebook7-oom.png` });

  const events = (await (await request.get('/api/metrics/v1/events')).json())
    .events;
  expect(events.map((e: any) => [e.type, e.path])).toEqual([
    ['oom_kill', NOTEBOOK]
  ]);
});
