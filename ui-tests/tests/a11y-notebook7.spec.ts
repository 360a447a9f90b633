/**
 * Accessibility in Jupyter Notebook 7, checked rather than assumed: axe-core's
 * WCAG 2.1 A/AA rules on our elements in each view (the top area's items,
 * the detail view, the Kernel usage panel, the notification, a notebook's
 * cost lines), and a walk of each view with the keyboard alone.
 *
 * Runs in the `notebook7` project (50 MiB configured limit): the high-water
 * notification shows at once and the item is in its warning state.
 *
 * Plain Playwright (Galata's fixtures drive JupyterLab's own pages).
 */
import { expect, test, type Page } from '@playwright/test';

import { expectNoViolations, markOurToast, OUR_TOAST_ID, OURS } from './axe';
import {
  codeCell,
  focused,
  focusInside,
  putNotebook,
  scrollDetailWithKeys
} from './utils';

const ITEM = '#jp-ResourceMonitor-status .jp-ResourceMonitor';
const KERNEL_ITEM = '#jp-ResourceMonitor-kernelStatus';
const PANEL = '#jp-ResourceMonitor-kernels';
const DETAIL = '.jp-ResourceMonitor-popup .jp-ResourceMonitor-detail';

/**
 * Open a new notebook of one code cell and wait until its kernel runs (the
 * kernel item shows its memory).
 */
async function openNotebook(
  page: Page,
  request: any,
  name: string,
  source: string
): Promise<void> {
  await putNotebook(request, name, [codeCell('a11y', source)]);
  await page.goto(`/notebooks/${name}`);
  await expect(page.locator('.jp-Notebook .jp-CodeCell').first()).toBeVisible({
    timeout: 60_000
  });
  await expect(page.locator(KERNEL_ITEM)).toContainText(
    /Kernel: [1-9][\d.]* (KiB|MiB|GiB)/,
    { timeout: 60_000 }
  );
}

test.describe('accessibility (Notebook 7)', () => {
  test('top area items and detail view: no violation, and a keyboard walk', async ({
    page,
    request
  }) => {
    await openNotebook(page, request, 'a11y-nb7-item.ipynb', 'x = 1');
    const item = page.locator(ITEM);
    await expect(item).toContainText(/Mem: [1-9][\d.]* \/ 50 MiB/, {
      timeout: 30_000
    });
    await expect(page.locator(`${ITEM}.jp-ResourceMonitor-warn`)).toBeVisible({
      timeout: 30_000
    });
    // Two samples: the detail view shows its CPU figure and charts, as a user
    // sees it after the first seconds (before, it is short enough to fit).
    await expect(item).toContainText(/CPU: \d/, { timeout: 30_000 });
    await expectNoViolations(
      page,
      [ITEM, `${KERNEL_ITEM} .jp-ResourceMonitor-kernel`, KERNEL_ITEM],
      'the top area items'
    );

    // A short window: the detail view, below the item, scrolls.
    await page.setViewportSize({ width: 1280, height: 420 });
    await item.focus();
    await page.keyboard.press('Enter');
    const detail = page.locator(DETAIL);
    await expect(detail).toBeVisible();
    await expect(detail).toBeFocused();
    await expect(item).toHaveAttribute('aria-expanded', 'true');
    await expectNoViolations(page, [OURS], 'the detail view');

    await expect
      .poll(() =>
        detail.evaluate(node => node.scrollHeight > node.clientHeight + 1)
      )
      .toBe(true);
    await scrollDetailWithKeys(page, detail);

    // Tab leaves it (no trap); Escape closes it and the focus is back on the
    // item.
    await page.keyboard.press('Tab');
    expect(await focusInside(page, DETAIL), await focused(page)).toBe(false);
    await detail.focus();
    await page.keyboard.press('Escape');
    await expect(detail).toHaveCount(0);
    await expect(item).toBeFocused();
    await expect(item).toHaveAttribute('aria-expanded', 'false');
  });

  test('Kernel usage panel: no violation, and a keyboard walk', async ({
    page,
    request
  }) => {
    await openNotebook(page, request, 'a11y-nb7-panel.ipynb', 'x = 1');
    // From the kernel item, with the keyboard.
    const kernelItem = page.locator(`${KERNEL_ITEM} [role="button"]`).first();
    await kernelItem.focus();
    await page.keyboard.press('Enter');
    const panel = page.locator(PANEL);
    await expect(panel).toBeVisible();
    await expect(
      panel.locator('.jp-ResourceMonitor-kernelMemory').first()
    ).toHaveText(/^[1-9][\d.]* (KiB|MiB|GiB)$/, { timeout: 30_000 });
    await expect.poll(() => focusInside(page, PANEL)).toBe(true);
    await expectNoViolations(page, [OURS], 'the Kernel usage panel');

    // Tab moves on through it and out of it: no trap.
    let left = false;
    for (let i = 0; i < 10 && !left; i++) {
      await page.keyboard.press('Tab');
      left = !(await focusInside(page, PANEL));
    }
    expect(left, `focus stuck in the panel on ${await focused(page)}`).toBe(
      true
    );
  });

  test('notification: no violation, and reachable by keyboard', async ({
    page,
    request
  }) => {
    await openNotebook(page, request, 'a11y-nb7-toast.ipynb', 'x = 1');
    await markOurToast(page, 'Memory is at');
    await expectNoViolations(
      page,
      [`#${OUR_TOAST_ID}`, OURS],
      'the notification'
    );
    const action = page
      .locator(`#${OUR_TOAST_ID}`)
      .getByRole('button', { name: 'Show kernel usage' });
    await action.focus();
    await page.keyboard.press('Enter');
    await expect(page.locator(PANEL)).toBeVisible();
  });

  test('a notebook with cost lines: no violation', async ({
    page,
    request
  }) => {
    await openNotebook(
      page,
      request,
      'a11y-nb7-cells.ipynb',
      'big = bytearray(100 << 20)\ndel big'
    );
    const first = page.locator('.jp-Notebook .jp-CodeCell').first();
    // Run it with the keyboard: Shift+Enter in command mode, again until it
    // has run (a request sent while the kernel still connects can be lost).
    await expect(async () => {
      if (
        !/\[\d+\]/.test(
          (await first.locator('.jp-InputPrompt').textContent()) ?? ''
        )
      ) {
        await first.locator('.jp-InputPrompt').click();
        await page.keyboard.press('Shift+Enter');
      }
      await expect(first.locator('.jp-InputPrompt')).toHaveText(/\[\d+\]/, {
        timeout: 5_000
      });
    }).toPass({ timeout: 60_000 });
    const line = first.locator('.jp-ResourceMonitor-cellFigures');
    await expect(line).toBeVisible({ timeout: 30_000 });
    await expect(line).toHaveClass(/jp-mod-warning/);
    await expectNoViolations(
      page,
      ['.jp-Notebook .jp-ResourceMonitor-cellFigures'],
      'the cost lines'
    );
  });
});
