/**
 * What each cell cost, in Jupyter Notebook 7 (50 MiB limit here): the line
 * under an executed cell, highlighted as any kernel is near that limit, and
 * the right-sizing note for a notebook that last peaked above it.
 */
import { expect, test } from '@playwright/test';

import { codeCell, putNotebook, SCREENSHOTS } from './utils';

test('the line appears under the executed cell with its peak', async ({
  page,
  request
}) => {
  const name = 'nb7-cells.ipynb';
  const code = 'big = bytearray(200 << 20)\ndel big';
  await putNotebook(request, name, [codeCell('alloc', code)]);
  await page.goto(`/notebooks/${name}`);
  const first = page.locator('.jp-Notebook .jp-CodeCell').first();
  await expect(first).toBeVisible({ timeout: 60_000 });
  // Wait until the kernel runs (the kernel item shows its memory), then run the cell, again
  // until it has run: a request sent while the kernel still connects can be lost.
  const kernelItem = page
    .getByRole('banner')
    .locator('#jp-ResourceMonitor-kernelStatus');
  await expect(kernelItem).toContainText(/Kernel: [1-9][\d.]* (KiB|MiB|GiB)/, {
    timeout: 60_000
  });
  await first.locator('.jp-InputArea-editor').click();
  await expect(async () => {
    if (
      !/\[\d+\]/.test(
        (await first.locator('.jp-InputPrompt').textContent()) ?? ''
      )
    ) {
      await page.getByRole('menuitem', { name: 'Run' }).click();
      await page
        .getByRole('menuitem', { name: /^Run Selected Cell/ })
        .first()
        .click();
    }
    await expect(first.locator('.jp-InputPrompt')).toHaveText(/\[\d+\]/, {
      timeout: 5_000
    });
  }).toPass({ timeout: 60_000 });

  const line = first.locator('.jp-ResourceMonitor-cellFigures');
  await expect(line).toBeVisible({ timeout: 30_000 });
  await expect(line).toHaveText(/peak ≈?[\d.]+ (MiB|GiB)/);
  const match = /peak ≈?([\d.]+) (MiB|GiB)/.exec((await line.textContent())!)!;
  expect(
    parseFloat(match[1]) * (match[2] === 'GiB' ? 1024 : 1)
  ).toBeGreaterThanOrEqual(200);
  // Above this server's 50 MiB: highlighted.
  await expect(line).toHaveClass(/jp-mod-warning/);
  await page.screenshot({ path: `${SCREENSHOTS}/cells-notebook7-line.png` });
});

test('opening a notebook that last peaked above the limit says so', async ({
  page,
  request
}) => {
  const name = 'nb7-needs-a-gib.ipynb';
  const cell = {
    cell_type: 'code',
    id: 'big',
    source: 'data = load()',
    outputs: [],
    execution_count: 1,
    metadata: {
      resource_monitor: { peak_rss: 1073741824, children_peak_pss: null }
    }
  };
  await putNotebook(request, name, [cell]);
  await page.goto(`/notebooks/${name}`);
  const note = page.locator('.Toastify__toast', {
    hasText: 'its last run peaked'
  });
  await expect(note).toBeVisible({ timeout: 60_000 });
  await expect(note).toContainText(
    `${name}: its last run peaked at 1.0 GiB; this server may use 50 MiB`
  );
  await page.screenshot({
    path: `${SCREENSHOTS}/cells-notebook7-right-sizing.png`
  });
});
