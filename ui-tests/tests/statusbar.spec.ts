import { expect, test } from '@jupyterlab/galata';

import {
  countMetricsRequests,
  isMetricsRequest,
  ITEM,
  readyMetrics,
  SCREENSHOTS,
  setSetting,
  shownMemoryBytes
} from './utils';

test.describe('status bar item', () => {
  test('shows real numbers from the running server', async ({ page }) => {
    const item = page.locator(ITEM);
    await expect(item).toBeVisible();

    // The numbers straight from the server extension: a real sample (ours
    // carries `sample`), memory above zero.
    const metrics = await readyMetrics(page);
    expect(metrics.rss).toBeGreaterThan(0);
    expect(metrics.pss).toBeGreaterThan(0);

    // Let the item catch up with a ready sample (it shows 0 before).
    await expect(item).toHaveText(/Mem: 0*[1-9][\d.]*|Mem: 0\.\d*[1-9]/, {
      timeout: 20_000
    });

    // The figure shown is the server's memory, not a placeholder: within a
    // factor of two of what the endpoint reports (the server's memory moves
    // a little between the two readings; units may be 1000- or 1024-based).
    const shown = shownMemoryBytes((await item.textContent()) ?? '');
    expect(shown).not.toBeNull();
    expect(shown!).toBeGreaterThan(metrics.pss / 2);
    expect(shown!).toBeLessThan(metrics.rss * 2);

    // No limit configured here: the item warns only if the server says so.
    if (!metrics.limits.memory.warn && !metrics.limits.cpu.warn) {
      await expect(item).not.toHaveClass(/jp-ResourceMonitor-warn/);
    }

    await page
      .locator('#jp-main-statusbar')
      .screenshot({ path: `${SCREENSHOTS}/statusbar.png` });
  });

  test('clicking the item opens the detail view', async ({ page }) => {
    const item = page.locator(ITEM);
    await expect(item).toHaveText(/Mem: [\d.]+/, { timeout: 20_000 });
    // Poll faster so the detail view has some history to chart.
    await setSetting(page, 'refreshRate', 1000);
    await page.waitForTimeout(5000);

    await item.click();
    const detail = page.locator('.jp-ResourceMonitor-detail');
    await expect(detail).toBeVisible();
    await expect(detail).not.toBeEmpty();
    await expect(detail).toContainText('Memory');

    await page.screenshot({ path: `${SCREENSHOTS}/detail.png` });
    // The detail view above the status bar item: the picture in the README.
    const d = (await detail.boundingBox())!;
    const i = (await item.boundingBox())!;
    const x = Math.max(0, Math.min(d.x, i.x) - 12);
    const y = Math.max(0, d.y - 12);
    await page.screenshot({
      path: `${SCREENSHOTS}/detail-statusbar.png`,
      clip: {
        x,
        y,
        width: Math.max(d.x + d.width, i.x + i.width) + 12 - x,
        height: i.y + i.height - y
      }
    });
  });

  test('the refreshRate setting changes how often metrics are requested', async ({
    page
  }) => {
    const countOver = countMetricsRequests(page);
    await expect(page.locator(ITEM)).toHaveText(/Mem: [\d.]+/, {
      timeout: 20_000
    });

    /** Set refreshRate, then wait for the first poll on the new schedule. */
    const applyRate = async (ms: number): Promise<void> => {
      await setSetting(page, 'refreshRate', ms);
      await page.waitForRequest(r => isMetricsRequest(r.url()), {
        timeout: ms + 10_000
      });
    };

    const WINDOW_MS = 10_000;

    await applyRate(5000);
    const slow = await countOver(WINDOW_MS);

    await applyRate(1000);
    const fast = await countOver(WINDOW_MS);

    await applyRate(5000);
    const slowAgain = await countOver(WINDOW_MS);

    console.log(
      `metrics requests per ${WINDOW_MS} ms: 5000 ms -> ${slow}, ` +
        `1000 ms -> ${fast}, back to 5000 ms -> ${slowAgain}`
    );
    // About 2 per window at 5 s and about 10 at 1 s; leave room for timer
    // jitter on a busy machine.
    expect(slow).toBeGreaterThanOrEqual(1);
    expect(slow).toBeLessThanOrEqual(3);
    expect(fast).toBeGreaterThanOrEqual(7);
    expect(slowAgain).toBeGreaterThanOrEqual(1);
    expect(slowAgain).toBeLessThanOrEqual(3);
  });
});
