/**
 * Playwright configuration for the jupyter-resource-monitor UI tests.
 *
 * Two real JupyterLab servers with the extension installed:
 * - `default` (port 8888): no configured memory limit;
 * - `mem-limit` (port 8889): `ResourceMonitor.mem_limit` = 50 MB, so the
 *   server's own memory is over the limit and `limits.memory.warn` is true
 *   (a11y.spec.ts, the accessibility audit in JupyterLab, runs here too: the
 *   high-water notification shows at once);
 * - `notebook7` (port 8890): Jupyter Notebook 7, which has no status bar,
 *   with the same 50 MB limit (its memory notification must show);
 * - `lab-4.2` (port 8891): JupyterLab 4.2 from a second environment, when
 *   RESOURCE_MONITOR_OLDEST_LAB_JUPYTER names its `jupyter`;
 * - `oom` (port 8892): JupyterLab inside a new 700 MiB memory cgroup (root
 *   only), where a kernel is really ended by the OOM killer;
 * - `oom-notebook7` (port 8893): the same with Jupyter Notebook 7;
 * - `guard` (port 8899) and `guard-notebook7` (port 8900): JupyterLab and
 *   Notebook 7 in such cgroups with the memory guard on (the OOM projects
 *   turn it off): a runaway cell gets a MemoryError and a notification;
 * - `oom-bus` (port 8895): JupyterLab in its own such cgroup, polling once a
 *   minute: the OOM notification must come through the server's event bus;
 * - `pseudo-locale` (port 8894): JupyterLab with a pseudo-locale language pack
 *   built from the shipped catalog and selected (pseudo_locale.py),
 *   and the 50 MB limit, so the notification shows too;
 * - `slow` (port 8896): JupyterLab inside a new 1-CPU quota cpu cgroup (root
 *   only), with a test-only route that blocks its event loop ("Why is it
 *   slow?": throttling and a blocked server named with its culprit);
 * - `slow-notebook7` (port 8897): the same with Jupyter Notebook 7;
 * - `jupyter-resource-usage` (port 8898): jupyter-resource-usage 1.3.0's own
 *   frontend against our server, from a third environment, when
 *   RESOURCE_MONITOR_JRU_JUPYTER names its `jupyter`.
 *
 * The browser is the machine's Chromium (Playwright's own browser download
 * is not used). Video and traces are off: they need a downloaded ffmpeg.
 */
const fs = require('fs');

const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const DEFAULT_PORT = 8888;
const MEM_LIMIT_PORT = 8889;
const NOTEBOOK_PORT = 8890;
const OLDEST_LAB_PORT = 8891;
const OOM_PORT = 8892;
const OOM_NOTEBOOK_PORT = 8893;
const JRU_PORT = 8898;
const OOM_BUS_PORT = 8895;
const PSEUDO_LOCALE_PORT = 8894;
// The `oom` project's server runs in a memory cgroup of this size, created by
// ../tests/cgroups.py, so its kernel's OOM killer can end a kernel for real.
const OOM_CGROUP_MIB = 700;
const SLOW_PORT = 8896;
// The memory guard's projects: the same cgroups, the guard on.
const GUARD_PORT = 8899;
const GUARD_NOTEBOOK_PORT = 8900;
const SLOW_NOTEBOOK_PORT = 8897;
// The `slow` projects' servers run under this CPU quota (in CPUs).
const SLOW_QUOTA_CPUS = 1;

/**
 * Why a memory cgroup cannot be created here (the `oom` spec then skips with
 * this reason), or null. The same rule as tests/cgroups.py.
 */
function cgroupUnavailable() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'creating a memory cgroup needs root';
  }
  const writable = path => {
    try {
      fs.accessSync(path, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (fs.existsSync('/sys/fs/cgroup/memory')) {
    return writable('/sys/fs/cgroup/memory')
      ? null
      : 'the v1 memory controller is read-only';
  }
  let v2 = '';
  try {
    v2 = fs.readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8');
  } catch {
    // no cgroup v2 either
  }
  if (v2.split(/\s+/).includes('memory')) {
    return writable('/sys/fs/cgroup')
      ? null
      : 'the cgroup v2 root is read-only';
  }
  return 'no memory controller to create a cgroup in';
}
const OOM_UNAVAILABLE = cgroupUnavailable();

/**
 * Why a cpu cgroup with a quota cannot be created here (the `slow` specs then
 * skip with this reason), or null. The same rule as tests/cgroups.py.
 */
function cpuCgroupUnavailable() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'creating a cpu cgroup needs root';
  }
  if (
    fs.existsSync('/sys/fs/cgroup/cpu') &&
    !fs.existsSync('/sys/fs/cgroup/cgroup.controllers')
  ) {
    try {
      fs.accessSync('/sys/fs/cgroup/cpu', fs.constants.W_OK);
      return null;
    } catch {
      return 'the v1 cpu controller is read-only';
    }
  }
  let v2 = '';
  try {
    v2 = fs.readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8');
  } catch {
    // no cgroup v2 either
  }
  return v2.split(/\s+/).includes('cpu')
    ? null
    : 'no cpu controller to create a cgroup in';
}
const SLOW_UNAVAILABLE = cpuCgroupUnavailable();
// Read by the slow specs in the workers, which inherit this environment.
process.env.RESOURCE_MONITOR_SLOW_UNAVAILABLE = SLOW_UNAVAILABLE || '';
process.env.RESOURCE_MONITOR_SLOW_QUOTA_CPUS = String(SLOW_QUOTA_CPUS);
// Read by oom.spec.ts in the workers, which inherit this environment.
process.env.RESOURCE_MONITOR_OOM_UNAVAILABLE = OOM_UNAVAILABLE || '';

// The `jupyter` of an environment with the oldest supported JupyterLab (4.2),
// which scripts/test-all.sh builds; without it that project is left out.
const OLDEST_LAB_JUPYTER = process.env.RESOURCE_MONITOR_OLDEST_LAB_JUPYTER;
// The `jupyter` of an environment with jupyter-resource-usage 1.3.0 and our
// wheel (its server extension and our labextension disabled), which
// scripts/test-all.sh builds; without it that project is left out.
const JRU_JUPYTER = process.env.RESOURCE_MONITOR_JRU_JUPYTER;
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
function labServer(
  port,
  extraEnv = {},
  app = 'lab',
  jupyter = 'jupyter',
  wrapper = ''
) {
  return {
    command: `${wrapper}${jupyter} ${app} --config jupyter_server_test_config.py`,
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

/**
 * A server inside a new memory cgroup of OOM_CGROUP_MIB, made (and removed
 * afterwards) by ../tests/cgroups.py.
 */
function cgroupServer(port, app, guard = false) {
  return {
    ...labServer(
      port,
      {
        RESOURCE_MONITOR_UI_SAMPLE_INTERVAL: '0.5',
        // The OOM projects need the kernel really OOM-killed: the memory
        // guard (on by default under a cgroup limit) would keep it alive.
        RESOURCE_MONITOR_UI_MEMORY_GUARD: guard ? 'true' : 'false'
      },
      app,
      'jupyter',
      `${process.env.PYTHON || 'python3'} ../tests/cgroups.py --limit-mib ${OOM_CGROUP_MIB} -- `
    ),
    // SIGTERM (not Playwright's default SIGKILL), so cgroups.py stops the
    // server and removes its cgroup.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 }
  };
}

/**
 * A server inside a new cpu cgroup with a SLOW_QUOTA_CPUS quota, made (and
 * removed afterwards) by ../tests/cgroups.py, with the test-only extension
 * ./blocker/ui_test_blocker.py whose route blocks the event loop.
 */
function slowServer(port, app) {
  const blocker = require('path').join(__dirname, 'blocker');
  return {
    ...labServer(
      port,
      {
        RESOURCE_MONITOR_UI_SAMPLE_INTERVAL: '0.5',
        RESOURCE_MONITOR_UI_BLOCKER: '1',
        PYTHONPATH: [blocker, process.env.PYTHONPATH].filter(Boolean).join(':')
      },
      app,
      'jupyter',
      `${process.env.PYTHON || 'python3'} ../tests/cgroups.py --cpus ${SLOW_QUOTA_CPUS} -- `
    ),
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 }
  };
}

/**
 * The servers to start: all of them, or with RESOURCE_MONITOR_UI_PORTS (e.g.
 * `8896,8897`, for `--project slow --project slow-notebook7`) only those, as
 * Playwright starts every server whatever projects run.
 */
function onlyPorts(servers) {
  const ports = (process.env.RESOURCE_MONITOR_UI_PORTS || '')
    .split(',')
    .filter(Boolean);
  return ports.length
    ? servers.filter(server =>
        ports.includes(server.env.RESOURCE_MONITOR_UI_PORT)
      )
    : servers;
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
      testIgnore:
        /(a11y|mem-limit|notebook7|lab-oldest|oom|oom-notebook7|oom-bus|guard|guard-notebook7|pseudo-locale|jupyter-resource-usage|slow|slow-notebook7)(-cells)?\.spec\.ts/,
      use: { baseURL: `http://localhost:${DEFAULT_PORT}` }
    },
    {
      name: 'notebook7',
      testMatch: /\/(glance-|a11y-)?notebook7(-cells)?\.spec\.ts/,
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
    ...(JRU_JUPYTER
      ? [
          {
            name: 'jupyter-resource-usage',
            testMatch: /jupyter-resource-usage\.spec\.ts/,
            use: { baseURL: `http://localhost:${JRU_PORT}` }
          }
        ]
      : []),
    {
      name: 'oom',
      testMatch: /\/oom\.spec\.ts/,
      use: { baseURL: `http://localhost:${OOM_PORT}` }
    },
    {
      name: 'oom-notebook7',
      testMatch: /oom-notebook7\.spec\.ts/,
      use: { baseURL: `http://localhost:${OOM_NOTEBOOK_PORT}` }
    },
    {
      name: 'oom-bus',
      testMatch: /oom-bus\.spec\.ts/,
      use: { baseURL: `http://localhost:${OOM_BUS_PORT}` }
    },
    {
      name: 'guard',
      testMatch: /\/guard\.spec\.ts/,
      use: { baseURL: `http://localhost:${GUARD_PORT}` }
    },
    {
      name: 'guard-notebook7',
      testMatch: /guard-notebook7\.spec\.ts/,
      use: { baseURL: `http://localhost:${GUARD_NOTEBOOK_PORT}` }
    },
    {
      name: 'slow',
      testMatch: /\/slow\.spec\.ts/,
      use: { baseURL: `http://localhost:${SLOW_PORT}` }
    },
    {
      name: 'slow-notebook7',
      testMatch: /slow-notebook7\.spec\.ts/,
      use: { baseURL: `http://localhost:${SLOW_NOTEBOOK_PORT}` }
    },
    {
      name: 'mem-limit',
      testMatch: /(mem-limit(-cells)?|\/a11y)\.spec\.ts/,
      use: { baseURL: `http://localhost:${MEM_LIMIT_PORT}` }
    },
    {
      name: 'pseudo-locale',
      testMatch: /pseudo-locale\.spec\.ts/,
      use: { baseURL: `http://localhost:${PSEUDO_LOCALE_PORT}` }
    }
  ],
  webServer: onlyPorts([
    labServer(DEFAULT_PORT),
    labServer(MEM_LIMIT_PORT, {
      RESOURCE_MONITOR_UI_MEM_LIMIT: String(MEM_LIMIT_BYTES)
    }),
    // Notebook 7 under a configured 50 MiB limit too: its first sample is
    // past the high-water mark, so the notification must show there.
    labServer(
      NOTEBOOK_PORT,
      { RESOURCE_MONITOR_UI_MEM_LIMIT: String(MEM_LIMIT_BYTES) },
      'notebook'
    ),
    ...(OLDEST_LAB_JUPYTER
      ? [labServer(OLDEST_LAB_PORT, {}, 'lab', OLDEST_LAB_JUPYTER)]
      : []),
    {
      // SIGTERM, so pseudo_locale.py stops the server and removes the pack.
      ...labServer(
        PSEUDO_LOCALE_PORT,
        { RESOURCE_MONITOR_UI_MEM_LIMIT: String(MEM_LIMIT_BYTES) },
        'lab',
        'jupyter',
        `${process.env.PYTHON || 'python3'} pseudo_locale.py -- `
      ),
      gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 }
    },
    ...(JRU_JUPYTER ? [labServer(JRU_PORT, {}, 'lab', JRU_JUPYTER)] : []),
    ...(OOM_UNAVAILABLE
      ? []
      : [
          cgroupServer(OOM_PORT, 'lab'),
          cgroupServer(OOM_NOTEBOOK_PORT, 'notebook'),
          cgroupServer(OOM_BUS_PORT, 'lab'),
          cgroupServer(GUARD_PORT, 'lab', true),
          cgroupServer(GUARD_NOTEBOOK_PORT, 'notebook', true)
        ]),
    ...(SLOW_UNAVAILABLE
      ? []
      : [
          slowServer(SLOW_PORT, 'lab'),
          slowServer(SLOW_NOTEBOOK_PORT, 'notebook')
        ])
  ])
};
