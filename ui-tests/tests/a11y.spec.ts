/**
 * Accessibility in JupyterLab, checked rather than assumed: axe-core's WCAG
 * 2.1 A/AA rules on our elements in each view (status bar, detail view,
 * Kernel usage panel, notification, a notebook's cost lines), and a walk of
 * each view with the keyboard alone.
 *
 * Runs in the `mem-limit` project (50 MiB configured limit, see
 * playwright.config.js): the high-water notification shows at once and the
 * item is in its warning state, the colours most likely to fail contrast.
 */
import { expect, test } from '@jupyterlab/galata';

import { expectNoViolations, markOurToast, OUR_TOAST_ID, OURS } from './axe';
import {
  focused,
  focusInside,
  ITEM,
  newNotebookWithIdleKernel,
  readyMetrics,
  scrollDetailWithKeys,
  scrollsWith
} from './utils';

const PANEL_ID = 'jp-ResourceMonitor-kernels';
const DETAIL = '.jp-ResourceMonitor-popup .jp-ResourceMonitor-detail';

test.describe('accessibility (JupyterLab)', () => {
  test.beforeEach(async ({ page }) => {
    await readyMetrics(page);
    await expect(page.locator(ITEM)).toHaveText(/Mem: [1-9][\d.]*/, {
      timeout: 20_000
    });
  });

  test('status bar item and detail view: no violation, and a keyboard walk', async ({
    page
  }) => {
    // Short window: the detail view has less room than its content, so it
    // scrolls.
    await page.setViewportSize({ width: 1280, height: 420 });
    const item = page.locator(ITEM);
    await expect(page.locator(`${ITEM}.jp-ResourceMonitor-warn`)).toBeVisible({
      timeout: 20_000
    });
    await expectNoViolations(
      page,
      [
        '#jp-main-statusbar [class^="jp-ResourceMonitor"]',
        '#jp-main-statusbar [class*=" jp-ResourceMonitor"]'
      ],
      'the status bar'
    );

    // Open with Enter: the focus goes into the detail view.
    await item.focus();
    await expect(item).toHaveAttribute('role', 'button');
    await page.keyboard.press('Enter');
    const detail = page.locator(DETAIL);
    await expect(detail).toBeVisible();
    await expect(item).toHaveAttribute('aria-expanded', 'true');
    await expect(detail).toBeFocused();
    await expect(detail).toHaveAttribute('role', 'dialog');
    await expectNoViolations(page, [OURS], 'the detail view');

    // Scroll it with the keyboard.
    const scroll = () => detail.evaluate(node => node.scrollTop);
    const scrollable = await detail.evaluate(
      node => node.scrollHeight > node.clientHeight + 1
    );
    expect(scrollable).toBe(true);
    expect(await scroll()).toBe(0);
    await scrollDetailWithKeys(page, detail);

    // Tab leaves it (nothing inside takes the focus: no trap), and Shift+Tab
    // comes back to it.
    await page.keyboard.press('Tab');
    expect(await focusInside(page, DETAIL), await focused(page)).toBe(false);
    await page.keyboard.press('Shift+Tab');
    await expect(detail).toBeFocused();

    // Escape closes it and the focus is back on the item.
    await page.keyboard.press('Escape');
    await expect(detail).toHaveCount(0);
    await expect(item).toBeFocused();
    await expect(item).toHaveAttribute('aria-expanded', 'false');

    // Space opens it too, and Escape closes it again.
    await page.keyboard.press('Space');
    await expect(detail).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(detail).toHaveCount(0);
    await expect(item).toBeFocused();
  });

  test('the stale look of the status items: no violation', async ({ page }) => {
    // Stale numbers need a server that stops answering: here the items are
    // given their stale class (kept on through re-renders while axe runs).
    await newNotebookWithIdleKernel(page);
    const stop = await page.evaluateHandle(() => {
      const marks: [string, string][] = [
        ['#jp-main-statusbar .jp-ResourceMonitor', 'jp-ResourceMonitor-stale'],
        ['#jp-main-statusbar .jp-ResourceMonitor-kernel', 'jp-mod-stale']
      ];
      const mark = () => {
        for (const [selector, name] of marks) {
          const node = document.querySelector(selector);
          if (node && !node.classList.contains(name)) {
            node.classList.add(name);
          }
        }
      };
      mark();
      const observer = new MutationObserver(mark);
      observer.observe(document.getElementById('jp-main-statusbar')!, {
        attributes: true,
        subtree: true,
        childList: true
      });
      return () => observer.disconnect();
    });
    await expect(
      page.locator('#jp-main-statusbar .jp-ResourceMonitor-stale')
    ).toHaveCount(1);
    await expect(
      page.locator('#jp-main-statusbar .jp-ResourceMonitor-kernel.jp-mod-stale')
    ).toHaveCount(1);
    await expectNoViolations(
      page,
      [
        '#jp-main-statusbar .jp-ResourceMonitor',
        '#jp-main-statusbar .jp-ResourceMonitor-kernel'
      ],
      'the stale status items'
    );
    await stop.evaluate(disconnect => disconnect());
  });

  test('Kernel usage panel: no violation, and a keyboard walk', async ({
    page
  }) => {
    await newNotebookWithIdleKernel(page);

    // Open it from the command palette with the keyboard.
    await page.keyboard.press('Control+Shift+C');
    const palette = page.locator('#command-palette');
    await expect(palette).toBeVisible();
    await page.keyboard.type('Kernel Usage');
    await page.keyboard.press('Enter');
    const panel = page.locator(`#${PANEL_ID}`);
    await expect(panel).toBeVisible();
    await expect(
      panel.locator('.jp-ResourceMonitor-kernelMemory').first()
    ).toHaveText(/^[\d.]+ (KiB|MiB|GiB)$/, { timeout: 30_000 });
    // The focus is in the panel, so the keyboard can go on from there.
    await expect
      .poll(() => focusInside(page, `#${PANEL_ID}`), {
        message: 'focus in the panel'
      })
      .toBe(true);
    await expectNoViolations(page, [OURS], 'the Kernel usage panel');

    // Scroll it with the keyboard, in a window short enough that it scrolls.
    const overflows = () =>
      panel.evaluate(node => node.scrollHeight > node.clientHeight + 1);
    for (const height of [300, 260, 220, 180]) {
      if (await overflows()) {
        break;
      }
      await page.setViewportSize({ width: 1280, height });
    }
    expect(await overflows()).toBe(true);
    await expect(panel).toBeFocused();
    await scrollsWith(page, panel, 'PageDown', top => top > 0, true);
    await scrollsWith(page, panel, 'Home', top => top === 0);

    // Tab moves on through it and out of it: no trap.
    let left = false;
    for (let i = 0; i < 10 && !left; i++) {
      await page.keyboard.press('Tab');
      left = !(await focusInside(page, `#${PANEL_ID}`));
    }
    expect(left, `focus stuck in the panel on ${await focused(page)}`).toBe(
      true
    );

    // Back in it, Ctrl+J (JupyterLab's Toggle Right Sidebar) closes it, and
    // the focus is not lost on the page's body.
    await panel.focus();
    await page.keyboard.press('Control+J');
    await expect(panel).toBeHidden();
    await expect.poll(() => focused(page)).not.toBe('body');

    // Its sidebar tab opens it again from the keyboard (Enter); the focus
    // stays on the tab, as with JupyterLab's own side panels.
    const tab = page.locator(
      `.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="${PANEL_ID}"]`
    );
    await tab.focus();
    await page.keyboard.press('Enter');
    await expect(panel).toBeVisible();
    await expect(tab).toBeFocused();
  });

  test('notification: no violation, and reachable by keyboard', async ({
    page
  }) => {
    await markOurToast(page, 'Memory is at');
    const toast = page.locator(`#${OUR_TOAST_ID}`);
    await expectNoViolations(
      page,
      [`#${OUR_TOAST_ID}`, OURS],
      'the notification'
    );

    // Its action is a button: Enter on it opens the Kernel usage panel.
    const action = toast.getByRole('button', { name: 'Show kernel usage' });
    await action.focus();
    await expect(action).toBeFocused();
    // Tab reaches the toast's close button (not a trap).
    await page.keyboard.press('Tab');
    expect(await focused(page)).not.toBe('body');
    await action.focus();
    await page.keyboard.press('Enter');
    await expect(page.locator(`#${PANEL_ID}`)).toBeVisible();
  });

  test('a notebook with cost lines: no violation', async ({ page }) => {
    await newNotebookWithIdleKernel(page);
    await page.notebook.setCell(
      0,
      'code',
      'big = bytearray(100 << 20)\ndel big'
    );
    await page.notebook.runCell(0);
    // Running the cell added an empty one below it.
    await page.notebook.setCell(1, 'code', 'x = 1');
    await page.notebook.runCell(1);
    const lines = page.locator('.jp-Notebook .jp-ResourceMonitor-cellFigures');
    await expect(lines).toHaveCount(2, { timeout: 30_000 });
    // The first is over this server's 50 MiB: its highlighted colours too.
    await expect(lines.first()).toHaveClass(/jp-mod-warning/);
    await expectNoViolations(
      page,
      ['.jp-Notebook .jp-ResourceMonitor-cellFigures'],
      'the cost lines'
    );
  });

  test('in the dark theme too: no violation', async ({ page }) => {
    await page.theme.setDarkTheme();
    try {
      await newNotebookWithIdleKernel(page);
      await page.notebook.setCell(
        0,
        'code',
        'big = bytearray(100 << 20)\ndel big'
      );
      await page.notebook.runCell(0);
      const line = page.locator('.jp-Notebook .jp-ResourceMonitor-cellFigures');
      await expect(line).toHaveClass(/jp-mod-warning/, { timeout: 30_000 });
      await expect(page.locator(`${ITEM}.jp-ResourceMonitor-warn`)).toBeVisible(
        {
          timeout: 20_000
        }
      );
      await page.sidebar.openTab(PANEL_ID);
      await expect(
        page.locator(`#${PANEL_ID} .jp-ResourceMonitor-kernelMemory`).first()
      ).toHaveText(/^[\d.]+ (KiB|MiB|GiB)$/, { timeout: 30_000 });
      await page.locator(ITEM).click();
      await expect(page.locator(DETAIL)).toBeVisible();
      await markOurToast(page, 'Memory is at');
      await expectNoViolations(
        page,
        [OURS, `#${OUR_TOAST_ID}`],
        'the dark theme (status bar, detail view, panel, cost line, notification)'
      );
      await page.keyboard.press('Escape');
    } finally {
      // The theme is a setting: the tests after this one need the light one.
      await page.theme.setLightTheme();
    }
  });
});
