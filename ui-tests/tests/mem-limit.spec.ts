/**
 * Runs only in the `mem-limit` Playwright project, against a server started
 * with `ResourceMonitor.mem_limit` = 50 MiB (see playwright.config.js): the
 * server alone uses more than that, so the memory warning must show.
 */
import { expect, test } from '@jupyterlab/galata';

import { ITEM, METRICS_PATH, readyMetrics, SCREENSHOTS } from './utils';

test('a low memory limit configured on the server shows the warning', async ({
  page
}) => {
  const metrics = await readyMetrics(page);
  expect(metrics.limits.memory.source).toBe('config');
  expect(metrics.limits.memory.pss).toBe(50 * 1024 * 1024);

  const item = page.locator(ITEM);
  await expect(item).toHaveText(/Mem: [\d.]+/, { timeout: 20_000 });
  // The class may sit on the root element or on its memory part.
  await expect(
    page
      .locator(
        `${ITEM}.jp-ResourceMonitor-warn, ${ITEM} .jp-ResourceMonitor-warn`
      )
      .first()
  ).toBeVisible({ timeout: 20_000 });

  const warned = await (await page.request.get(METRICS_PATH)).json();
  expect(warned.limits.memory.warn).toBe(true);

  await page
    .locator('#jp-main-statusbar')
    .screenshot({ path: `${SCREENSHOTS}/statusbar-warn.png` });
});
