/**
 * Runs only in the `pseudo-locale` Playwright project: JupyterLab with a
 * language pack built from the shipped catalog by ../pseudo_locale.py, in
 * which every message of ours reads `⟦…⟧` with accented letters, selected by
 * the server's `@jupyterlab/translation-extension:plugin` setting. The server
 * has a 50 MiB memory limit, so the memory notification shows too.
 *
 * No text of ours may show untransformed: every text read below must carry
 * the marks, and the only plain ASCII words allowed in it are the values
 * passed into the messages (units, file and kernel names, PSS/RSS).
 */
import { expect, test } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import {
  ITEM,
  newNotebookWithIdleKernel,
  PLUGIN_ID,
  readyMetrics,
  SCREENSHOTS
} from './utils';

/** The real settings of the server (its folder selects the locale). */
test.use({ mockSettings: false });

const ACCENTED: Record<string, string> = {};
const PLAIN = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const MARKED = 'ȧƀƈḓḗƒɠħīĵķŀḿƞǿƥɋřşŧŭṽẇẋẏẑȦƁƇḒḖƑƓĦĪĴĶĿḾȠǾƤɊŘŞŦŬṼẆẊẎẐ';
[...PLAIN].forEach((c, i) => (ACCENTED[c] = [...MARKED][i]));

/** A message as the pseudo-locale shows it (the same rule as pseudo_locale.py). */
function pseudo(text: string): string {
  return (
    '⟦' +
    text
      .split(/(%\d+|%%)/)
      .map((part, i) =>
        i % 2 ? part : [...part].map(c => ACCENTED[c] ?? c).join('')
      )
      .join('') +
    '⟧'
  );
}

/**
 * Words that reach the page as values inside a message, not as messages:
 * binary units, the memory figure's name, the notebook's file and kernel.
 */
const PASSED_THROUGH = new Set([
  'KiB',
  'MiB',
  'GiB',
  'TiB',
  'PSS',
  'RSS',
  'Untitled',
  'ipynb',
  'python'
]);

/**
 * ASCII words of a text that are not passed-through values (nor kernel ids,
 * nor a kernel name such as `python3`): untranslated text.
 */
function plainWords(text: string): string[] {
  // Kernel ids first, whole: a group of one can be all letters ("badc").
  const withoutIds = text.replace(
    /[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}|\b[0-9a-f]{8}\b/g,
    ''
  );
  return (withoutIds.match(/[A-Za-z0-9]+/g) ?? []).filter(
    word =>
      /[A-Za-z]{2}/.test(word) &&
      !/^(?=.*\d)[0-9a-f]+$/.test(word) &&
      !/^python\d*$/.test(word) &&
      !PASSED_THROUGH.has(word)
  );
}

/** The visible text, titles and aria-labels of an element and its descendants. */
async function textsOf(locator: Locator): Promise<string[]> {
  return locator.evaluate((root: HTMLElement) => {
    const texts = [root.innerText];
    for (const el of [root, ...Array.from(root.querySelectorAll('*'))]) {
      for (const attr of ['title', 'aria-label']) {
        const value = el.getAttribute(attr);
        if (value) {
          texts.push(value);
        }
      }
    }
    return texts.map(t => t.trim()).filter(Boolean);
  });
}

/**
 * No text of ours untransformed: the area shows our messages (marked), and
 * no text in it (visible, title or aria-label) has a plain English word;
 * a text made only of values (a kernel id, a file name) has none either.
 */
function expectAllTransformed(where: string, texts: string[]): void {
  expect(
    texts.some(text => text.includes('⟦')),
    `${where}: no message of ours in ${JSON.stringify(texts)}`
  ).toBe(true);
  for (const text of texts) {
    expect(
      plainWords(text),
      `${where}: untranslated words in ${JSON.stringify(text)}`
    ).toEqual([]);
  }
}

test('every text of ours shows in the pseudo-locale', async ({ page }) => {
  test.setTimeout(180_000);
  // The language pack is installed and selected on the server.
  const packs = await (await page.request.get('/lab/api/translations')).json();
  expect(Object.keys(packs.data)).toContain('en_ZZ');

  // Status bar item: its text (a ready sample: memory shown) and tooltip.
  await readyMetrics(page);
  const item = page.locator(ITEM);
  await expect(item).toContainText(pseudo('Mem: %1').split('%1')[0], {
    timeout: 30_000
  });
  expectAllTransformed('status bar item', await textsOf(item));

  // The memory notification (the server's memory is over its 50 MiB limit).
  const toast = page.locator('.Toastify__toast', {
    hasText: pseudo('Memory is at %1 of the limit (%2 of %3).').split('%1')[0]
  });
  await expect(toast).toBeVisible({ timeout: 30_000 });
  // Its message and actions (the close button's label is JupyterLab's own).
  expectAllTransformed(
    'memory notification',
    await textsOf(toast.getByRole('alert'))
  );
  // Settled (not sliding in) for the screenshot.
  await expect(toast).not.toHaveClass(/Toastify--animate/);
  await page.screenshot({
    path: `${SCREENSHOTS}/pseudo-locale-notification.png`
  });
  // Out of the way of the status bar.
  await toast.getByRole('button', { name: 'Hide notification' }).click();
  await expect(toast).toBeHidden();

  // The detail view.
  await item.click();
  const detail = page.locator('.jp-ResourceMonitor-detail');
  await expect(detail).toBeVisible();
  await expect(detail).toContainText(pseudo('CPU'));
  expectAllTransformed('detail view', await textsOf(detail));
  await page.screenshot({ path: `${SCREENSHOTS}/pseudo-locale-detail.png` });
  await page.keyboard.press('Escape');
  await expect(detail).toBeHidden();

  // The kernel status item and the Kernel usage panel, with a real kernel.
  await newNotebookWithIdleKernel(page);
  const kernelItem = page.locator(
    '#jp-main-statusbar .jp-ResourceMonitor-kernel'
  );
  await expect(kernelItem).toContainText(/\d (KiB|MiB|GiB)/, {
    timeout: 30_000
  });
  await page.sidebar.openTab('jp-ResourceMonitor-kernels');
  const panel = page.locator('#jp-ResourceMonitor-kernels');
  await expect(
    panel.locator('.jp-ResourceMonitor-kernelMemory').first()
  ).toHaveText(/^[\d.]+ (KiB|MiB|GiB)$/, { timeout: 30_000 });
  expectAllTransformed('kernel usage panel', await textsOf(panel));
  expectAllTransformed('kernel status item', await textsOf(kernelItem));
  const tab = page.locator(
    '.lm-TabBar-tab[data-id="jp-ResourceMonitor-kernels"]'
  );
  expectAllTransformed('kernel panel tab', await textsOf(tab));
  await page.screenshot({ path: `${SCREENSHOTS}/pseudo-locale-kernels.png` });

  // The commands: labels and captions, and their palette entries under the
  // translated category (only our texts contain the mark, so it filters them).
  const commands = await page.evaluate(() => {
    const registry = (window as any).jupyterapp.commands;
    return registry
      .listCommands()
      .filter((id: string) => id.startsWith('resource-monitor:'))
      .flatMap((id: string) => [registry.label(id), registry.caption(id)]);
  });
  expect(commands.length).toBe(6);
  expectAllTransformed('command labels and captions', commands);
  await page.keyboard.press('Control+Shift+C');
  const palette = page.locator('#command-palette');
  const header = palette.locator('.lm-CommandPalette-header', {
    hasText: pseudo('Resource Monitor')
  });
  await expect(header).toHaveCount(1);
  // The entries listed under our category, up to the next one.
  const entries = await header.evaluate((node: Element) => {
    const texts: string[] = [];
    for (
      let el = node.nextElementSibling;
      el && el.classList.contains('lm-CommandPalette-item');
      el = el.nextElementSibling
    ) {
      texts.push((el as HTMLElement).innerText.trim());
      const title = el.getAttribute('title');
      if (title) {
        texts.push(title);
      }
    }
    return texts;
  });
  expect(
    entries.filter(text => text.includes('⟦')).length
  ).toBeGreaterThanOrEqual(3);
  expectAllTransformed('command palette', entries);
  for (const label of ['Resource Usage Details', 'Refresh Resource Usage']) {
    await expect(
      palette.locator('.lm-CommandPalette-item', { hasText: pseudo(label) })
    ).toBeVisible();
  }
  await page.screenshot({ path: `${SCREENSHOTS}/pseudo-locale-palette.png` });
  await page.keyboard.press('Escape');

  // The settings schema, translated by the server from the pack's .mo file.
  const settings = await (
    await page.request.get(`/lab/api/settings/${PLUGIN_ID}`)
  ).json();
  expect(settings.schema.title).toBe(pseudo('Resource Monitor'));
  expect(settings.schema.properties.refreshRate.title).toBe(
    pseudo('Refresh rate (ms)')
  );
});
