/**
 * Shared selectors and helpers for the jupyter-resource-monitor UI tests.
 */
import type { IJupyterLabPageFixture } from '@jupyterlab/galata';
import {
  expect,
  type APIRequestContext,
  type Locator,
  type Page
} from '@playwright/test';

/** The settings plugin id of the frontend extension. */
export const PLUGIN_ID = 'jupyter-resource-monitor:plugin';

/** The status item: its root element inside JupyterLab's main status bar. */
export const ITEM = '#jp-main-statusbar .jp-ResourceMonitor';

/** The metrics endpoint, as a path suffix (the base URL may add a prefix). */
export const METRICS_PATH = '/api/metrics/v1';

/** Where the tests write their screenshots (relative to ui-tests/). */
export const SCREENSHOTS = 'screenshots';

/** Whether a request URL is a call to the metrics endpoint. */
export function isMetricsRequest(url: string): boolean {
  return new URL(url).pathname.endsWith(METRICS_PATH);
}

/**
 * Set one setting of our plugin through the application's setting registry,
 * as the Settings editor would.
 */
export async function setSetting(
  page: Page,
  key: string,
  value: unknown
): Promise<void> {
  await page.evaluate(
    async ({ id, key, value }) => {
      const registry = await (window as any).galata.getPlugin(
        '@jupyterlab/apputils-extension:settings'
      );
      await registry.set(id, key, value);
    },
    { id: PLUGIN_ID, key, value }
  );
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40
};

/**
 * The memory in use shown by the item, in bytes, from text such as
 * `Mem: 1.2 / 8.0 GiB` or `Mem: 312 MiB / 8.0 GiB`; null if it has no unit we
 * know.
 */
export function shownMemoryBytes(text: string): number | null {
  const match =
    /Mem:\s*([\d.]+)\s*([KMGT]?i?B)?(?:\s*\/\s*[\d.]+\s*([KMGT]?i?B))?/i.exec(
      text
    );
  if (!match) {
    return null;
  }
  const unit = (match[2] ?? match[3] ?? '').toUpperCase();
  const factor = UNITS[unit];
  return factor === undefined ? null : parseFloat(match[1]) * factor;
}

/**
 * The metrics payload once the server's worker has taken its first sample
 * (before that, numbers are 0 and limits are not yet known).
 */
export async function readyMetrics(page: Page): Promise<any> {
  let metrics: any = null;
  await expect
    .poll(
      async () => {
        const response = await page.request.get(METRICS_PATH);
        expect(response.status()).toBe(200);
        metrics = await response.json();
        return metrics.sample?.ready;
      },
      { timeout: 20_000 }
    )
    .toBe(true);
  return metrics;
}

/**
 * Start counting the page's requests to the metrics endpoint.
 *
 * @returns A function that waits `ms` milliseconds and says how many metrics
 * requests the page made meanwhile.
 */
export function countMetricsRequests(
  page: Page
): (ms: number) => Promise<number> {
  let count = 0;
  page.on('request', request => {
    if (isMetricsRequest(request.url())) {
      count++;
    }
  });
  return async (ms: number): Promise<number> => {
    const start = count;
    await page.waitForTimeout(ms);
    return count - start;
  };
}

/**
 * Why the OOM projects cannot run here (playwright.config.js sets it), or
 * empty when a memory cgroup can be created.
 */
export const OOM_UNAVAILABLE = process.env.RESOURCE_MONITOR_OOM_UNAVAILABLE;

/**
 * Python that touches 10 MiB every 50 ms, for ever: a few seconds of growth
 * until the kernel's OOM killer ends it.
 */
export const ALLOCATE_FOREVER = [
  'import time',
  'hog = []',
  'while True:',
  "    hog.append(b'x' * (10 << 20))",
  '    time.sleep(0.05)'
].join('\n');

/**
 * Why the `slow` projects cannot run here (playwright.config.js sets it), or
 * empty when a cpu cgroup with a quota can be created.
 */
export const SLOW_UNAVAILABLE = process.env.RESOURCE_MONITOR_SLOW_UNAVAILABLE;

/**
 * Python that starts 2 processes spinning for ever (twice the `slow`
 * servers' 1-CPU quota), kept in `busy` so a later cell can stop them.
 */
export const START_TWO_BUSY = [
  'import subprocess, sys',
  "busy = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(2)]"
].join('\n');

/**
 * Block the server's event loop for `seconds` through the test-only route of
 * ui-tests/blocker/ui_test_blocker.py, in the function `hold_the_loop`.
 */
export async function blockTheLoop(
  request: { get: (url: string) => Promise<{ ok: () => boolean }> },
  seconds: number
): Promise<void> {
  const response = await request.get(
    `/ui-test/block-the-loop?seconds=${seconds}`
  );
  expect(response.ok()).toBe(true);
}

/**
 * The text a blocked-loop notification names the culprit with.
 */
export const CULPRIT =
  /in hold_the_loop \(…\/ui-tests\/blocker\/ui_test_blocker\.py:\d+\)/;

/**
 * Remove one setting of our plugin (back to its default), as the Settings
 * editor's "Restore to Defaults" would.
 */
export async function removeSetting(page: Page, key: string): Promise<void> {
  await page.evaluate(
    async ({ id, key }) => {
      const registry = await (window as any).galata.getPlugin(
        '@jupyterlab/apputils-extension:settings'
      );
      await registry.remove(id, key);
    },
    { id: PLUGIN_ID, key }
  );
}

/**
 * Create a notebook in JupyterLab and wait until its kernel is idle.
 *
 * @returns The notebook's session path, as the server knows it, and its
 *   kernel's id.
 */
export async function newNotebookWithIdleKernel(
  page: IJupyterLabPageFixture
): Promise<{ path: string; kernelId: string }> {
  await page.notebook.createNew();
  const handle = await page.waitForFunction(
    () => {
      const session = (window as any).jupyterapp.shell.currentWidget
        ?.sessionContext?.session;
      return session?.kernel?.status === 'idle'
        ? { path: session.path, kernelId: session.kernel.id }
        : null;
    },
    undefined,
    { timeout: 60_000 }
  );
  return (await handle.jsonValue())!;
}

/**
 * A code cell for {@link putNotebook}.
 */
export function codeCell(id: string, source: string): unknown {
  return {
    cell_type: 'code',
    execution_count: null,
    id,
    metadata: {},
    outputs: [],
    source
  };
}

/**
 * Save a Python notebook of these cells at `path` through the contents API.
 */
export async function putNotebook(
  request: APIRequestContext,
  path: string,
  cells: unknown[]
): Promise<void> {
  const response = await request.put(`/api/contents/${path}`, {
    data: {
      type: 'notebook',
      content: {
        cells,
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
}

/** The element that has the focus, described for a failure message. */
export async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const node = document.activeElement as HTMLElement | null;
    if (!node || node === document.body) {
      return 'body';
    }
    return `${node.tagName.toLowerCase()}${node.id ? '#' + node.id : ''}.${[
      ...node.classList
    ].join('.')}`;
  });
}

/** Whether the focus is inside the element matching `selector`. */
export async function focusInside(
  page: Page,
  selector: string
): Promise<boolean> {
  return page.evaluate(
    selector =>
      !!document.querySelector(selector)?.contains(document.activeElement),
    selector
  );
}

/**
 * Press `key` in the focused scrollable `node` (from the top when `fromTop`)
 * until its scroll position passes `check`: Chromium scrolls smoothly, and a
 * re-render of the view as a poll lands can cut the animation short.
 */
export async function scrollsWith(
  page: Page,
  node: Locator,
  key: string,
  check: (top: number, bottom: boolean) => boolean,
  fromTop = false
): Promise<void> {
  await expect(async () => {
    if (fromTop) {
      await node.evaluate(element => (element.scrollTop = 0));
    }
    await page.keyboard.press(key);
    await page.waitForTimeout(300);
    const [top, bottom] = await node.evaluate(element => [
      element.scrollTop,
      element.scrollTop + element.clientHeight >= element.scrollHeight - 1
    ]);
    expect(check(top as number, bottom as boolean), `${key}: ${top}`).toBe(
      true
    );
  }).toPass({ timeout: 15_000 });
}

/**
 * Scroll the focused, overflowing detail view with the keyboard: ArrowDown
 * and PageDown each from the top (the overflow may be less than a page), End
 * to the bottom, Home back to the top.
 */
export async function scrollDetailWithKeys(
  page: Page,
  detail: Locator
): Promise<void> {
  await scrollsWith(page, detail, 'ArrowDown', top => top > 0, true);
  await scrollsWith(page, detail, 'PageDown', top => top > 0, true);
  await scrollsWith(page, detail, 'End', (_, bottom) => bottom);
  await scrollsWith(page, detail, 'Home', top => top === 0);
}
