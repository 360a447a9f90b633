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
