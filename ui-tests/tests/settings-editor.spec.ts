import { expect, test } from '@jupyterlab/galata';

import { countMetricsRequests, ITEM, SCREENSHOTS, setSetting } from './utils';

/** The Settings editor's form input for one of our settings. */
const field = (key: string): string =>
  `[id="jp-SettingsEditor-jupyter-resource-monitor:plugin_${key}"]`;

test.describe('Settings editor', () => {
  test.afterEach(async ({ page }) => {
    await setSetting(page, 'refreshRate', 5000); // the other specs expect the default
  });

  test('shows our settings, and editing the poll interval there retimes the poll', async ({
    page
  }) => {
    const countOver = countMetricsRequests(page);
    await expect(page.locator(ITEM)).toHaveText(/Mem: [\d.]+/, {
      timeout: 20_000
    });

    await page.menu.clickMenuItem('Settings>Settings Editor');
    await page.locator('.jp-PluginList').getByText('Resource Monitor').click();
    const rate = page.locator(field('refreshRate'));
    await expect(rate).toHaveValue('5000');
    for (const key of ['showMemory', 'showCpu', 'showDisk', 'historyMinutes']) {
      await expect(page.locator(field(key))).toBeVisible();
    }

    const before = await countOver(6000); // at 5000 ms: one or two
    await rate.fill('1000');
    await rate.press('Tab'); // the form saves on change
    await page.waitForTimeout(2000); // the save, then the first tick on the new schedule
    const fast = await countOver(6000);
    await page.screenshot({ path: `${SCREENSHOTS}/settings-editor.png` });

    // Below the schema's minimum: the form refuses it and polling keeps its pace.
    await rate.fill('10');
    await rate.press('Tab');
    await page.waitForTimeout(1000);
    const afterInvalid = await countOver(5000);

    console.log(
      `metrics requests: 6 s at 5000 ms -> ${before}, 6 s at 1000 ms -> ${fast}, ` +
        `5 s after typing 10 -> ${afterInvalid}`
    );
    expect(before).toBeLessThanOrEqual(2);
    expect(fast).toBeGreaterThanOrEqual(4);
    expect(afterInvalid).toBeGreaterThanOrEqual(3);
    expect(afterInvalid).toBeLessThanOrEqual(7);
  });
});
