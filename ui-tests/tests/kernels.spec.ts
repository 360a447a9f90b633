import { expect, test } from '@jupyterlab/galata';

import { newNotebookWithIdleKernel, SCREENSHOTS, setSetting } from './utils';

/** The Kernel usage panel's id, also its right-sidebar tab's `data-id`. */
const PANEL_ID = 'jp-ResourceMonitor-kernels';

/** The kernel status item inside JupyterLab's main status bar. */
const KERNEL_ITEM = '#jp-main-statusbar .jp-ResourceMonitor-kernel';

/** Bytes per unit as the extension prints them (binary units). */
const UNITS: Record<string, number> = {
  B: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30
};

/** Bytes from a figure such as `312 MiB`, or null. */
function bytes(text: string | null): number | null {
  const match = /^([\d.]+) (B|KiB|MiB|GiB)$/.exec((text ?? '').trim());
  return match ? parseFloat(match[1]) * UNITS[match[2]] : null;
}

test.describe('Kernel usage panel', () => {
  test("marks the current notebook's kernel with its real memory", async ({
    page
  }) => {
    // Poll every second so the sparklines get a few points quickly.
    await setSetting(page, 'refreshRate', 1000);

    // The kernel of the notebook that is now current, once it is idle.
    const { kernelId } = await newNotebookWithIdleKernel(page);
    expect(typeof kernelId).toBe('string');

    await page.sidebar.openTab(PANEL_ID);
    const panel = page.locator(`#${PANEL_ID}`);
    await expect(panel).toBeVisible();
    await expect(panel.getByRole('list')).toBeVisible();

    // Exactly one row is current, and it is the notebook's kernel.
    const current = panel.locator(
      '.jp-ResourceMonitor-kernelRow.jp-mod-current'
    );
    await expect(current).toHaveCount(1);
    await expect(current).toHaveAttribute('data-kernel-id', kernelId);
    await expect(current).toHaveAttribute('aria-current', 'true');

    // A real memory figure: shown once the server has sampled the kernel.
    const memory = current.locator('.jp-ResourceMonitor-kernelMemory');
    await expect(memory).toHaveText(/^[\d.]+ (KiB|MiB|GiB)$/, {
      timeout: 30_000
    });

    // The same kernel, straight from the server: measured, and the figure
    // shown is within a factor of two of it. Polled: a kernel that has just
    // gone idle is still growing, and the panel is one poll behind.
    let usage: any = null;
    await expect
      .poll(
        async () => {
          const response = await page.request.get(
            `/api/metrics/v1/kernels/${kernelId}`
          );
          expect(response.status()).toBe(200);
          usage = await response.json();
          const shown = bytes(await memory.textContent());
          return (
            usage.available &&
            shown !== null &&
            shown > usage.memory / 2 &&
            shown < usage.memory * 2
          );
        },
        { timeout: 30_000 }
      )
      .toBe(true);
    expect(usage.id).toBe(kernelId);
    expect(usage.memory).toBeGreaterThan(1024 * 1024);

    // The status bar shows the same kernel right after the server's item.
    const item = page.locator(KERNEL_ITEM);
    await expect(item).toHaveText(/^Kernel: [\d.]+ (KiB|MiB|GiB) · /);
    await expect(item).toHaveAttribute('title', new RegExp(kernelId));

    // A few polls later the row has its memory and CPU sparklines.
    await expect(
      current.locator('svg.jp-ResourceMonitor-sparkline')
    ).toHaveCount(2, { timeout: 15_000 });
    await page.waitForTimeout(3000);
    await panel.screenshot({ path: `${SCREENSHOTS}/kernel-usage.png` });
    await page
      .locator('#jp-main-statusbar')
      .screenshot({ path: `${SCREENSHOTS}/kernel-statusbar.png` });
  });
});
