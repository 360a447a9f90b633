/**
 * Runs only in the `slow-notebook7` Playwright project: Jupyter Notebook 7
 * inside a new 1-CPU quota cpu cgroup with the loop-blocking test route (see
 * playwright.config.js). Its items live in the top bar: the blocked-loop
 * notification, the CPU item's warning and the diagnosis must show there too.
 *
 * Plain Playwright (Galata's fixtures drive JupyterLab's own pages).
 */
import { expect, test } from '@playwright/test';

import {
  blockTheLoop,
  codeCell,
  CULPRIT,
  putNotebook,
  SCREENSHOTS,
  SLOW_UNAVAILABLE,
  START_TWO_BUSY
} from './utils';

const NOTEBOOK = 'nb7-busy.ipynb';

test.skip(!!SLOW_UNAVAILABLE, `no CPU quota here: ${SLOW_UNAVAILABLE}`);

test('Notebook 7 names the blocking code, and warns while the quota throttles', async ({
  page,
  request
}) => {
  test.setTimeout(240_000);
  await putNotebook(request, NOTEBOOK, [codeCell('busy', START_TWO_BUSY)]);

  await page.goto(`/notebooks/${NOTEBOOK}`);
  const banner = page.getByRole('banner');
  await expect(
    banner.locator('#jp-ResourceMonitor-kernelStatus')
  ).toContainText(/Kernel: [1-9][\d.]* (KiB|MiB|GiB)/, { timeout: 60_000 });

  await blockTheLoop(request, 2);
  const toast = page.locator('.Toastify__toast', {
    hasText: 'The server was unresponsive'
  });
  await expect(toast).toBeVisible({ timeout: 30_000 });
  await expect(toast).toContainText(CULPRIT);

  // Start the busy processes once the page has loaded.
  await page.locator('.jp-Cell .jp-InputArea-editor').first().click();
  await page.keyboard.press('Control+Enter');

  const item = banner.locator('#jp-ResourceMonitor-status .jp-ResourceMonitor');
  const cpu = item.locator('[data-metric="cpu"]');
  await expect(cpu).toHaveClass(/jp-mod-warn/, { timeout: 90_000 });
  await expect(item).toHaveAttribute(
    'title',
    /Held back: The 1-CPU limit held this server back/,
    {
      timeout: 90_000
    }
  );

  await item.click();
  const diagnosis = page.locator(
    '.jp-ResourceMonitor-detail .jp-ResourceMonitor-diagnosis'
  );
  await expect(diagnosis.locator('li[data-kind="throttled"]')).toContainText(
    /^The 1-CPU limit held this server back in \d+% of the quota periods in which it had work/
  );
  await expect(diagnosis.locator('li[data-kind="blocked"]')).toContainText(
    CULPRIT
  );
  await page.screenshot({ path: `${SCREENSHOTS}/diagnosis-notebook7.png` });
});
