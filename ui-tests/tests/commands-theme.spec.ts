import { expect, test } from '@jupyterlab/galata';

import { ITEM, SCREENSHOTS } from './utils';

/** The relative luminance of a CSS `rgb(...)` colour, 0 (black) to 1 (white). */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? ['0', '0', '0'])
    .slice(0, 3)
    .map(value => {
      const c = Number(value) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

test.describe('commands', () => {
  test('the palette opens the detail view and the Kernel usage panel', async ({
    page
  }) => {
    await expect(page.locator(ITEM)).toHaveText(/Mem: [\d.]+/, {
      timeout: 20_000
    });

    const run = async (label: string) => {
      await page.keyboard.press('Control+Shift+C');
      const input = page.locator('.lm-CommandPalette-input');
      await input.fill(label);
      await page
        .locator('.lm-CommandPalette-item', { hasText: label })
        .first()
        .click();
    };

    await run('Resource Usage Details');
    const detail = page.locator(
      '.jp-ResourceMonitor-popup .jp-ResourceMonitor-detail'
    );
    await expect(detail).toBeVisible();
    await expect(page.locator(ITEM)).toHaveAttribute('aria-expanded', 'true');
    await page.keyboard.press('Escape');
    await expect(detail).toHaveCount(0);

    await run('Kernel Usage');
    await expect(page.locator('.jp-ResourceMonitor-kernels')).toBeVisible();
  });

  test('the View menu lists them', async ({ page }) => {
    const view = await page.menu.openLocator('View');
    expect(view).not.toBeNull();
    for (const label of [
      'Resource Usage Details',
      'Kernel Usage',
      'Refresh Resource Usage'
    ]) {
      await expect(
        view!.locator('.lm-Menu-itemLabel', { hasText: label })
      ).toBeVisible();
    }
    await page.keyboard.press('Escape');
  });
});

test('the dark theme: light text on the dark status bar and popup', async ({
  page
}) => {
  await page.theme.setDarkTheme();
  const item = page.locator(ITEM);
  await expect(item).toHaveText(/Mem: [1-9][\d.]* (KiB|MiB|GiB)/, {
    timeout: 20_000
  });
  const itemColor = await item.evaluate(node => getComputedStyle(node).color);
  expect(luminance(itemColor)).toBeGreaterThan(0.4);

  await item.click();
  const detail = page.locator(
    '.jp-ResourceMonitor-popup .jp-ResourceMonitor-detail'
  );
  await expect(detail).toBeVisible();
  const [text, background] = await detail.evaluate(node => [
    getComputedStyle(node).color,
    getComputedStyle(node).backgroundColor
  ]);
  expect(luminance(text)).toBeGreaterThan(0.4);
  expect(luminance(background)).toBeLessThan(0.1);
  await page.screenshot({ path: `${SCREENSHOTS}/dark-theme.png` });
});
