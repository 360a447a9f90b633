/**
 * jupyter-resource-usage's own frontend (1.3.0) against our server, in an
 * environment of its own that scripts/test-all.sh builds: jupyter-resource-
 * usage's server extension and our labextension disabled, so its status item
 * reads our /api/metrics/v1. Without a memory limit it must show the memory
 * alone ("Mem: 83 MB"), never the host's memory as a quota ("/ 24105 MB").
 */
import { expect, test } from '@playwright/test';

import { SCREENSHOTS } from './utils';

test("jupyter-resource-usage's status item reads our payload as it reads its own", async ({
  page,
  request
}) => {
  const metrics = await (await request.get('/api/metrics/v1')).json();
  // Our server answers (its `sample` block), not jupyter-resource-usage's.
  expect(metrics.sample).toBeDefined();
  await page.goto('/lab');
  // Only its item: ours is disabled in this environment.
  await expect(
    page.locator('#jp-main-statusbar .jp-ResourceMonitor')
  ).toHaveCount(0);

  // Its visible status item ("CPU: 0.00 % | Mem: 77.42 MB"); its older
  // memory-only item stays hidden in the DOM.
  const item = page
    .locator('#jp-main-statusbar .jp-StatusBar-Item')
    .filter({ visible: true, hasText: 'Mem:' });
  await expect(item).toHaveCount(1, { timeout: 60_000 });
  await expect(item).toContainText(
    /Mem:\s+[1-9][\d.]*\s*(\/\s*[\d.]+\s*)?(KB|MB|GB)/,
    {
      timeout: 60_000
    }
  );
  const text = ((await item.textContent()) ?? '').replace(/\s+/g, ' ');
  const limit = metrics.limits.memory;
  if (limit.source === 'host') {
    // No limit: 0 in limits.memory, as jupyter-resource-usage answers.
    expect(limit.rss).toBe(0);
    expect(text).toMatch(/Mem: [1-9][\d.]* (KB|MB|GB)/);
    expect(text).not.toContain('/');
  } else {
    // A limit (a cgroup here): shown as the quota it is.
    expect(text).toMatch(/Mem: [\d.]+ \/ [1-9][\d.]* (MB|GB)/);
  }
  await page.screenshot({
    path: `${SCREENSHOTS}/jupyter-resource-usage-frontend.png`,
    clip: {
      x: 0,
      y: (page.viewportSize()?.height ?? 720) - 40,
      width: 1280,
      height: 40
    }
  });
});
