/**
 * The bottom of the supported range: JupyterLab 4.2, in a second environment
 * that scripts/test-all.sh builds. Plain Playwright (Galata's in-page helpers
 * follow the newest JupyterLab).
 */
import { expect, test } from '@playwright/test';

import { SCREENSHOTS } from './utils';

test('JupyterLab 4.2 shows real numbers in the status bar, and the detail view', async ({
  page
}) => {
  const errors: string[] = [];
  page.on('console', message => {
    if (
      message.type() === 'error' &&
      /resource-monitor|ResourceMonitor/i.test(message.text())
    ) {
      errors.push(message.text());
    }
  });
  await page.goto('/lab');
  const version = await page.evaluate(
    () => document.getElementById('jupyter-config-data')?.textContent ?? ''
  );
  expect(JSON.parse(version).appVersion).toMatch(/^4\.2\./);

  const item = page.locator('#jp-main-statusbar .jp-ResourceMonitor');
  await expect(item).toContainText(/Mem: [1-9][\d.]* (KiB|MiB|GiB)/, {
    timeout: 60_000
  });
  await item.click();
  const popup = page.locator(
    '.jp-ResourceMonitor-popup .jp-ResourceMonitor-detail'
  );
  await expect(popup).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/lab-4.2.png` });
  await page.keyboard.press('Escape');
  await expect(popup).toHaveCount(0);
  expect(errors).toEqual([]);
});
