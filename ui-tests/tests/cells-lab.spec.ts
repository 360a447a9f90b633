/**
 * What each cell cost, in JupyterLab: the line under an executed cell, with
 * the peak the server measured.
 */
import { expect, test } from '@jupyterlab/galata';

import { newNotebookWithIdleKernel, SCREENSHOTS } from './utils';

/** The line under a cell. */
const LINE = '.jp-ResourceMonitor-cellFigures';

test('a line under the executed cell gives its time, CPU and peak', async ({
  page
}) => {
  await newNotebookWithIdleKernel(page);
  await page.notebook.setCell(
    0,
    'code',
    'big = bytearray(300 << 20)\ndel big\nsum(range(10**6))'
  );
  await page.notebook.runCell(0);

  const line = page.locator(`.jp-Notebook .jp-CodeCell ${LINE}`).first();
  await expect(line).toBeVisible({ timeout: 30_000 });
  // 300 MiB allocated and freed at once: the peak holds it (≈ when a boundary was read late).
  await expect(line).toHaveText(
    /^[\d.]+ m?s · CPU [\d.]+ m?s.* · peak ≈?[\d.]+ (MiB|GiB)/
  );
  const text = (await line.textContent())!;
  const match = /peak ≈?([\d.]+) (MiB|GiB)/.exec(text)!;
  const peakMiB = parseFloat(match[1]) * (match[2] === 'GiB' ? 1024 : 1);
  expect(peakMiB).toBeGreaterThanOrEqual(300);
  expect(peakMiB).toBeLessThan(600);
  await expect(line).toHaveAttribute('title', /Wall time: .*\nCPU: .*\nPeak: /);
  await page.screenshot({ path: `${SCREENSHOTS}/cells-lab-line.png` });

  // The Kernel usage panel: the kernel's peak since start holds the 300 MiB,
  // and the cell is its costliest, with the same peak as the line.
  await page.sidebar.openTab('jp-ResourceMonitor-kernels');
  const row = page.locator(
    '#jp-ResourceMonitor-kernels .jp-ResourceMonitor-kernelRow.jp-mod-current'
  );
  const peak = row.locator('.jp-ResourceMonitor-kernelPeak');
  await expect(peak).toHaveText(/^Peak since start: [\d.]+ (MiB|GiB)$/, {
    timeout: 30_000
  });
  const since = /([\d.]+) (MiB|GiB)/.exec((await peak.textContent())!)!;
  const sinceMiB = parseFloat(since[1]) * (since[2] === 'GiB' ? 1024 : 1);
  expect(sinceMiB).toBeGreaterThanOrEqual(300);
  expect(sinceMiB).toBeGreaterThanOrEqual(peakMiB - 1);
  const costliest = row.locator('.jp-ResourceMonitor-kernelCostliest li');
  // Named by its position and first line in the open notebook.
  await expect(costliest.first()).toContainText(
    '[1] big = bytearray(300 << 20)'
  );
  await expect(costliest.first()).toContainText(`peak ${match[1]} ${match[2]}`);
  await row.screenshot({ path: `${SCREENSHOTS}/cells-lab-kernel-panel.png` });
});
