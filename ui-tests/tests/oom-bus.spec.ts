/**
 * Runs only in the `oom-bus` Playwright project: JupyterLab inside a 700 MiB
 * memory cgroup (see playwright.config.js), polling only once a minute. A
 * notebook's kernel is ended by the kernel's OOM killer; the notification
 * must come through the server's event bus within 5 s of the kill, not at the
 * next poll.
 */
import * as fs from 'fs';

import { expect, test } from '@jupyterlab/galata';

import {
  ALLOCATE_FOREVER,
  newNotebookWithIdleKernel,
  OOM_UNAVAILABLE,
  readyMetrics,
  SCREENSHOTS,
  setSetting
} from './utils';

/** The poll interval for this test, ms: far longer than the 5 s allowed. */
const POLL_MS = 60_000;
/** From the kill to the notification, at most (issue 18, item 7). */
const WITHIN_MS = 5_000;

test.skip(!!OOM_UNAVAILABLE, `no real OOM kill here: ${OOM_UNAVAILABLE}`);

/** A process's state letter (`R`, `S`, `Z`, …), or null once it is gone. */
function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** The OOM kill counter of the memory cgroup `pid` is in (v1 or v2). */
function oomKillsFile(pid: number): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find(line => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(line));
  if (v1) {
    const path = v1.split(':')[2];
    return `/sys/fs/cgroup/memory${path}/memory.oom_control`;
  }
  const path = lines.find(line => line.startsWith('0::'))!.slice(3);
  return `/sys/fs/cgroup${path}/memory.events`;
}

function oomKills(file: string): number {
  const line = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .find(l => l.startsWith('oom_kill '));
  return line ? parseInt(line.split(' ')[1], 10) : 0;
}

test('an OOM kill is announced through the event bus within 5 s, with the poll at 60 s', async ({
  page
}) => {
  test.setTimeout(180_000);
  const metrics = await readyMetrics(page);
  expect(metrics.memory.limit).toBe(700 * 2 ** 20);
  await setSetting(page, 'refreshRate', POLL_MS);
  const eventsRequests: number[] = [];
  const metricsRequests: number[] = [];
  page.on('request', request => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('/api/metrics/v1/events')) {
      eventsRequests.push(Date.now());
    } else if (path.endsWith('/api/metrics/v1')) {
      metricsRequests.push(Date.now());
    }
  });

  const session = await newNotebookWithIdleKernel(page);
  const fileName = session.path.split('/').pop()!;
  // The kernel's process, as the server's kernels route names it.
  let pid = 0;
  await expect
    .poll(
      async () => {
        const response = await page.request.get(
          `/api/metrics/v1/kernels/${session.kernelId}`
        );
        pid =
          response.status() === 200 ? ((await response.json()).pid ?? 0) : 0;
        return pid;
      },
      { timeout: 30_000 }
    )
    .toBeGreaterThan(0);
  const killsFile = oomKillsFile(pid);
  const killsBefore = oomKills(killsFile);

  // The page notes when our notification appears, on the machine's clock.
  await page.evaluate(() => {
    const win = window as any;
    win.__oomToastAt = 0;
    new MutationObserver(() => {
      if (win.__oomToastAt) {
        return;
      }
      for (const toast of document.querySelectorAll('.Toastify__toast')) {
        if (toast.textContent?.includes('ran out of memory')) {
          win.__oomToastAt = Date.now();
        }
      }
    }).observe(document.body, { childList: true, subtree: true });
  });

  await page.notebook.setCell(0, 'code', ALLOCATE_FOREVER);
  await page.notebook.selectCells(0);
  await page.keyboard.press('Control+Enter');

  // The kill, as this test sees it: the kernel's process becomes a zombie
  // (or is reaped) while the cgroup's OOM kill counter rises.
  let killedAt = 0;
  const deadline = Date.now() + 120_000;
  while (!killedAt && Date.now() < deadline) {
    const state = processState(pid);
    if (state === null || state === 'Z' || state === 'X') {
      killedAt = Date.now();
    } else {
      await new Promise(resolve => setTimeout(resolve, 5));
    }
  }
  expect(killedAt, 'the kernel never died').toBeGreaterThan(0);
  expect(oomKills(killsFile)).toBeGreaterThan(killsBefore);
  const metricsAtKill = metricsRequests.length;

  const toast = page.locator('.Toastify__toast', {
    hasText: 'ran out of memory'
  });
  await expect(toast).toBeVisible({ timeout: WITHIN_MS + 1_000 });
  const toastAt: number = await page.evaluate(
    () => (window as any).__oomToastAt
  );
  const delay = toastAt - killedAt;
  console.log(
    `OOM kill to notification: ${delay} ms (poll every ${POLL_MS} ms)`
  );
  expect(delay).toBeGreaterThan(0);
  expect(delay).toBeLessThanOrEqual(WITHIN_MS);
  await expect(toast).toContainText(
    new RegExp(
      `^${fileName.replace('.', '\\.')}: the kernel was stopped because it ran out of memory \\(it used [\\d.]+ MiB; this server may use 700 MiB\\)`
    )
  );
  // It came by the bus: the page polled no metrics since the kill and
  // fetched no events at all.
  expect(metricsRequests.length - metricsAtKill).toBe(0);
  expect(eventsRequests).toHaveLength(0);
  await expect(toast).not.toHaveClass(/Toastify--animate/);
  await page.screenshot({ path: `${SCREENSHOTS}/oom-bus-notification.png` });

  // The poll, when it comes, does not announce it again. (It may fetch the
  // events once, if this tab had not looked at them before: older kills.)
  const polled = metricsRequests.length;
  await page.evaluate(() =>
    (window as any).jupyterapp.commands.execute('resource-monitor:refresh')
  );
  await expect.poll(() => metricsRequests.length).toBeGreaterThan(polled);
  await page.waitForTimeout(2_000);
  await expect(toast).toHaveCount(1);
});
