/**
 * In Jupyter Notebook 7, opening a notebook, the kernel item in the top area
 * shows a figure about one sample interval (1 s) after it first names the new
 * kernel, with the default 5 s poll interval (issue 17 item 6). Timed in the
 * page, for three notebooks, each opened in its own page.
 *
 * Plain Playwright (Galata's fixtures drive JupyterLab's own pages).
 */
import { expect, test } from '@playwright/test';

import {
  describeGlance,
  GLANCE_BOUND_MS,
  glanceResult,
  KERNEL_FIGURE,
  watchNewKernel
} from './glance';

/** The kernel item in Notebook 7's top area. */
const KERNEL_ITEM =
  '#jp-ResourceMonitor-kernelStatus .jp-ResourceMonitor-kernel';

/** An empty Python notebook, so opening it starts a kernel. */
const EMPTY_NOTEBOOK = {
  type: 'notebook',
  content: {
    cells: [],
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
};

test("a new notebook's kernel item shows a figure within about a second", async ({
  context,
  request
}, testInfo) => {
  // The notebook7 project: the default poll (5 s) and sample (1 s) intervals.
  const kernels: string[] = [];
  const waits: number[] = [];
  try {
    for (let run = 1; run <= 3; run++) {
      const path = `glance-nb7-${run}-${Date.now()}.ipynb`;
      const created = await request.put(`/api/contents/${path}`, {
        data: EMPTY_NOTEBOOK
      });
      expect(created.ok()).toBe(true);

      const page = await context.newPage();
      await page.addInitScript(watchNewKernel, {
        selector: KERNEL_ITEM,
        figure: KERNEL_FIGURE.source,
        seen: []
      });
      await page.goto(`/notebooks/${path}`);
      const glance = await glanceResult(page);
      kernels.push(glance.kernelId);
      const line = describeGlance(run, glance);
      console.log(line);
      testInfo.annotations.push({ type: 'glance', description: line });
      await page.close();

      expect(glance.item).not.toBeNull();
      waits.push(glance.figure! - glance.item!);
    }
  } finally {
    // Plain Playwright does not shut down the kernels the pages started.
    for (const id of kernels) {
      await request.delete(`/api/kernels/${id}`);
    }
  }
  // Every run, not only the best: each is a user opening a notebook.
  for (const wait of waits) {
    expect(wait).toBeLessThan(GLANCE_BOUND_MS);
  }
});
