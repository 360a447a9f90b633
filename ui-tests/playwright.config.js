/**
 * Playwright configuration for the jupyter-resource-monitor UI tests.
 *
 * Two real JupyterLab servers with the extension installed:
 * - `default` (port 8888): no configured memory limit;
 * - `mem-limit` (port 8889): `ResourceMonitor.mem_limit` = 50 MB, so the
 *   server's own memory is over the limit and `limits.memory.warn` is true;
 * - `notebook7` (port 8890): Jupyter Notebook 7, which has no status bar;
 * - `lab-4.2` (port 8891): JupyterLab 4.2 from a second environment, when
 *   RESOURCE_MONITOR_OLDEST_LAB_JUPYTER names its `jupyter`.
 *
 * The browser is the machine's Chromium (Playwright's own browser download
 * is not used). Video and traces are off: they need a downloaded ffmpeg.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const DEFAULT_PORT = 8888;
const MEM_LIMIT_PORT = 8889;
const NOTEBOOK_PORT = 8890;
const OLDEST_LAB_PORT = 8891;

// The `jupyter` of an environment with the oldest supported JupyterLab (4.2),
// which scripts/test-all.sh builds; without it that project is left out.
const OLDEST_LAB_JUPYTER = process.env.RESOURCE_MONITOR_OLDEST_LAB_JUPYTER;
const MEM_LIMIT_BYTES = 50 * 1024 * 1024;

const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run'
];

/**
 * One webServer entry: `jupyter lab` with the shared test config, told its
 * port (and optional memory limit) through the environment.
 */
function labServer(port, extraEnv = {}, app = 'lab', jupyter = 'jupyter') {
  return {
    command: `${jupyter} ${app} --config jupyter_server_test_config.py`,
    url: `http://localhost:${port}/${app === 'lab' ? 'lab' : 'tree'}`,
    timeout: 120 * 1000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      ...process.env,
      RESOURCE_MONITOR_UI_PORT: String(port),
      ...extraEnv
    }
  };
}

module.exports = {
  ...baseConfig,
  testDir: './tests',
  // Both servers share this machine's CPUs; run the specs one at a time so
  // request counts and timings are not skewed by a parallel browser.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [
    ['list'],
    ['json', { outputFile: 'test-results/results.json' }],
    ['html', { open: 'never' }]
  ],
  use: {
    ...baseConfig.use,
    headless: true,
    video: 'off',
    trace: 'off',
    screenshot: 'only-on-failure',
    // Galata mocks the current user by answering every URL matching
    // /.*\/api\/me.*/, which also swallows /api/metrics/v1 (it would get a
    // user identity instead of metrics). Let the real server answer /api/me.
    mockUser: false,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: chromiumArgs
    }
  },
  projects: [
    {
      name: 'default',
      testIgnore: /(mem-limit|notebook7|lab-oldest)\.spec\.ts/,
      use: { baseURL: `http://localhost:${DEFAULT_PORT}` }
    },
    {
      name: 'notebook7',
      testMatch: /notebook7\.spec\.ts/,
      use: { baseURL: `http://localhost:${NOTEBOOK_PORT}` }
    },
    ...(OLDEST_LAB_JUPYTER
      ? [
          {
            name: 'lab-4.2',
            testMatch: /lab-oldest\.spec\.ts/,
            use: { baseURL: `http://localhost:${OLDEST_LAB_PORT}` }
          }
        ]
      : []),
    {
      name: 'mem-limit',
      testMatch: /mem-limit\.spec\.ts/,
      use: { baseURL: `http://localhost:${MEM_LIMIT_PORT}` }
    }
  ],
  webServer: [
    labServer(DEFAULT_PORT),
    labServer(MEM_LIMIT_PORT, {
      RESOURCE_MONITOR_UI_MEM_LIMIT: String(MEM_LIMIT_BYTES)
    }),
    labServer(NOTEBOOK_PORT, {}, 'notebook'),
    ...(OLDEST_LAB_JUPYTER
      ? [labServer(OLDEST_LAB_PORT, {}, 'lab', OLDEST_LAB_JUPYTER)]
      : [])
  ]
};
