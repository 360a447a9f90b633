/**
 * Jupyter Notebook 7 has no status bar: the items sit in its top area, and a
 * user editing a notebook sees memory without opening anything.
 *
 * Plain Playwright (Galata's fixtures drive JupyterLab's own pages).
 */
import { expect, test } from '@playwright/test';

import { SCREENSHOTS } from './utils';

const NOTEBOOK = 'nb7-memory.ipynb';

test.beforeAll(async ({ request }) => {
  const response = await request.put(`/api/contents/${NOTEBOOK}`, {
    data: {
      type: 'notebook',
      content: {
        cells: [],
        metadata: {
          kernelspec: {
            name: 'python3',
            display_name: 'Python 3',
            language: 'python'
          }
        },
        nbformat: 4,
        nbformat_minor: 5
      }
    }
  });
  expect(response.ok()).toBe(true);
});

test('a notebook shows the server memory and its kernel in the top area', async ({
  page
}) => {
  const errors: string[] = [];
  page.on('console', message => {
    if (
      message.type() === 'error' &&
      /resource|IStatusBar/i.test(message.text())
    ) {
      errors.push(message.text());
    }
  });
  await page.goto(`/notebooks/${NOTEBOOK}`);

  const item = page
    .getByRole('banner')
    .locator('#jp-ResourceMonitor-status .jp-ResourceMonitor');
  await expect(item).toBeVisible({ timeout: 60_000 });
  // A real figure from a sample, not the placeholder shown before the first one.
  await expect(item).toContainText(/Mem: [1-9][\d.]* \/ 50 MiB/, {
    timeout: 30_000
  });
  // The server is configured with a 50 MiB limit (playwright.config.js): past
  // the high-water mark at once, so one notification says so.
  const toast = page.locator('.Toastify__toast', { hasText: 'Memory is at' });
  await expect(toast).toBeVisible({ timeout: 30_000 });
  await expect(toast).toContainText(
    /Memory is at \d+% of the limit \([\d.]+ MiB of 50 MiB\)/
  );
  await expect(
    page.locator('.Toastify__toast', { hasText: 'Memory is at' })
  ).toHaveCount(1);

  const kernelItem = page
    .getByRole('banner')
    .locator('#jp-ResourceMonitor-kernelStatus');
  await expect(kernelItem).toBeVisible({ timeout: 60_000 });
  await expect(kernelItem).toContainText(/Kernel: [1-9][\d.]* (KiB|MiB|GiB)/, {
    timeout: 60_000
  });

  await page.screenshot({ path: `${SCREENSHOTS}/notebook7-top.png` });

  // The same detail as in JupyterLab, opening below the item (there is no room above).
  await item.click();
  const popup = page.locator(
    '.jp-ResourceMonitor-popup .jp-ResourceMonitor-detail'
  );
  await expect(popup).toBeVisible();
  const itemBox = (await item.boundingBox())!;
  const popupBox = (await popup.boundingBox())!;
  expect(popupBox.y).toBeGreaterThanOrEqual(itemBox.y + itemBox.height - 1);
  await expect(item).toHaveAttribute('aria-expanded', 'true');
  await page.screenshot({ path: `${SCREENSHOTS}/notebook7-detail.png` });

  // Escape closes it and gives the focus back to the item.
  await page.keyboard.press('Escape');
  await expect(popup).toHaveCount(0);
  await expect(item).toBeFocused();
  await expect(item).toHaveAttribute('aria-expanded', 'false');

  // The kernel item opens the Kernel usage panel, in Notebook 7's right side panel.
  await kernelItem.click();
  const panel = page.locator('.jp-ResourceMonitor-kernels');
  await expect(panel).toBeVisible();
  await expect(
    panel.locator('.jp-ResourceMonitor-kernelMemory').first()
  ).toHaveText(/^[1-9][\d.]* (KiB|MiB|GiB)$/, { timeout: 30_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/notebook7-kernels.png` });

  expect(errors).toEqual([]);
});
