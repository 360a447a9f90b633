/**
 * The accessibility audit of the UI tests: axe-core's WCAG 2.1 A and AA rules
 * run on our own elements only (JupyterLab's and Notebook 7's violations are
 * not ours to fix).
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';

/** The WCAG 2.0 and 2.1, levels A and AA, rule tags of axe-core. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/**
 * Every element of ours: its class starts with `jp-ResourceMonitor`.
 */
export const OURS =
  '[class^="jp-ResourceMonitor"], [class*=" jp-ResourceMonitor"]';

/** The id the audit gives to the toast of our notification. */
export const OUR_TOAST_ID = 'jp-ResourceMonitor-a11y-toast';

/**
 * Mark the toast that contains `text` (ours) so the audit can include it
 * without the other toasts on the page.
 */
export async function markOurToast(page: Page, text: string): Promise<void> {
  const toast = page.locator('.Toastify__toast', { hasText: text }).first();
  await expect(toast).toBeVisible({ timeout: 30_000 });
  await toast.evaluate((node, id) => {
    node.id = id;
  }, OUR_TOAST_ID);
}

/**
 * Run axe with the WCAG 2.1 A/AA rules on the elements matching `selectors`
 * and expect no violation; each violation is printed with its rule, help
 * text and the elements it was found on.
 *
 * @param page - The page.
 * @param selectors - CSS selectors of the elements to audit (those matching
 *   nothing are left out; at least one must match).
 * @param what - What is audited, for the failure message.
 */
export async function expectNoViolations(
  page: Page,
  selectors: string[],
  what: string
): Promise<void> {
  const present: string[] = [];
  for (const selector of selectors) {
    if ((await page.locator(selector).count()) > 0) {
      present.push(selector);
    }
  }
  expect(present, `nothing to audit in ${what}`).not.toEqual([]);
  let builder = new AxeBuilder({ page }).withTags(WCAG_TAGS);
  for (const selector of present) {
    builder = builder.include(selector);
  }
  // JupyterLab's and Notebook 7's <body> has no height (their shell is
  // positioned absolutely) and hides its overflow: axe then takes every
  // element as clipped, off screen, and the colour contrast rule applies to
  // nothing. Give <html> and <body> the viewport's height while axe runs.
  await page.evaluate(() => {
    for (const node of [document.documentElement, document.body]) {
      node.dataset.a11yHeight = node.style.height;
      node.style.height = '100vh';
    }
  });
  let results;
  try {
    results = await builder.analyze();
  } finally {
    await page.evaluate(() => {
      for (const node of [document.documentElement, document.body]) {
        node.style.height = node.dataset.a11yHeight ?? '';
        delete node.dataset.a11yHeight;
      }
    });
  }
  if (process.env.A11Y_DEBUG) {
    console.log(
      what,
      'passes:',
      results.passes.map(rule => `${rule.id}(${rule.nodes.length})`).join(' '),
      '\nincomplete:',
      JSON.stringify(
        results.incomplete.map(rule => ({
          rule: rule.id,
          nodes: rule.nodes.map(node => [
            node.target.join(' '),
            node.failureSummary
          ])
        }))
      )
    );
  }
  const found = results.violations.map(violation => ({
    rule: violation.id,
    impact: violation.impact,
    help: violation.help,
    nodes: violation.nodes.map(node => ({
      target: node.target.join(' '),
      summary: node.failureSummary
    }))
  }));
  expect(found, `axe violations in ${what}`).toEqual([]);
  // The colour contrast of our text was really checked (see above).
  const contrast = [...results.passes, ...results.incomplete].find(
    rule => rule.id === 'color-contrast'
  );
  expect(
    contrast?.nodes.length ?? 0,
    `axe checked no colour contrast in ${what}`
  ).toBeGreaterThan(0);
  const review = results.incomplete.map(rule => ({
    rule: rule.id,
    nodes: rule.nodes.map(node => node.target.join(' '))
  }));
  // What axe could not decide (e.g. text over a gradient) is for a person to
  // look at: say it, without failing.
  if (review.length) {
    console.log(`axe asks to review in ${what}: ${JSON.stringify(review)}`);
  }
}
