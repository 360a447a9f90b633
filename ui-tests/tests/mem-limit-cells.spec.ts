/**
 * Right-sizing in JupyterLab: a notebook whose recorded figures show a peak
 * above this server's memory limit (50 MiB here) says so when opened.
 */
import { expect, test } from '@jupyterlab/galata';

import { SCREENSHOTS } from './utils';

const NOTEBOOK = 'needs-a-gib.ipynb';

test('opening a notebook that last peaked above the limit says so', async ({
  page,
  request,
  tmpPath
}) => {
  const response = await request.put(`/api/contents/${tmpPath}/${NOTEBOOK}`, {
    data: {
      type: 'notebook',
      content: {
        cells: [
          {
            cell_type: 'code',
            id: 'big',
            source: 'data = load()',
            outputs: [],
            execution_count: 1,
            metadata: {
              resource_monitor: {
                peak_rss: 1073741824,
                children_peak_pss: null,
                wall_s: 12
              }
            }
          }
        ],
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
  await page.notebook.openByPath(`${tmpPath}/${NOTEBOOK}`);
  const note = page.locator('.Toastify__toast', {
    hasText: 'its last run peaked'
  });
  await expect(note).toBeVisible({ timeout: 30_000 });
  await expect(note).toContainText(
    `${NOTEBOOK}: its last run peaked at 1.0 GiB; this server may use 50 MiB`
  );
  await page.screenshot({ path: `${SCREENSHOTS}/cells-lab-right-sizing.png` });
});

test("a notebook without recorded figures is warned from this server's history of it", async ({
  page,
  request,
  tmpPath
}) => {
  const name = 'ran-here.ipynb';
  const path = `${tmpPath}/${name}`;
  const response = await request.put(`/api/contents/${path}`, {
    data: {
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
    }
  });
  expect(response.ok()).toBe(true);
  await page.notebook.openByPath(path);
  const kernelId = await (
    await page.waitForFunction(
      () => {
        const widget = (window as any).jupyterapp.shell.currentWidget;
        const kernel = widget?.sessionContext?.session?.kernel;
        return kernel && kernel.status === 'idle' ? kernel.id : null;
      },
      undefined,
      { timeout: 60_000 }
    )
  ).jsonValue();
  await page.notebook.setCell(0, 'code', 'big = bytearray(200 << 20)');
  await page.notebook.runCell(0);
  await expect(
    page.locator('.jp-Notebook .jp-CodeCell .jp-ResourceMonitor-cellFigures')
  ).toBeVisible({ timeout: 30_000 });
  // The server knows the kernel's notebook (from its session list).
  await expect
    .poll(
      async () =>
        (
          await (
            await request.get(`/api/metrics/v1/kernels/${kernelId}`)
          ).json()
        ).path,
      { timeout: 30_000 }
    )
    .toBe(path);

  // The kernel shuts down with its session; the notebook is closed.
  const sessions = await (await request.get('/api/sessions')).json();
  const session = sessions.find((s: any) => s.kernel?.id === kernelId);
  expect((await request.delete(`/api/sessions/${session.id}`)).status()).toBe(
    204
  );
  await page.notebook.close(false);
  const remembered = await (
    await request.get(
      `/api/metrics/v1/notebooks/peaks?path=${encodeURIComponent(path)}`
    )
  ).json();
  expect(remembered.peak).toBeGreaterThanOrEqual(200 * 2 ** 20);

  // Opened again, before anything runs: the note, from the server's history.
  await page.notebook.openByPath(path);
  const note = page.locator('.Toastify__toast', {
    hasText: `${name}: its last run peaked`
  });
  await expect(note).toBeVisible({ timeout: 30_000 });
  await expect(note).toContainText(
    /its last run peaked at 2\d\d MiB; this server may use 50 MiB/
  );
  await page.waitForTimeout(1000); // the toast slides in
  await page.screenshot({
    path: `${SCREENSHOTS}/cells-lab-right-sizing-history.png`
  });
});
