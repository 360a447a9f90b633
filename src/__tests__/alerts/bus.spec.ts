// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Notification } from '@jupyterlab/apputils';
import { Event, ServerConnection } from '@jupyterlab/services';
import { Stream } from '@lumino/signaling';

import {
  EventBusListener,
  OOM_KILL_SCHEMA_ID,
  oomKillHandler
} from '../../alerts/bus';
import { IOomEvent } from '../../alerts/events';
import { MemoryAlerts } from '../../alerts/notifier';
import { ResourceMonitorModel } from '../../server/model';
import { IMetrics } from '../../server/types';
import { GiB, normalPayload, TEST_SETTINGS } from '../fixtures';

const MESSAGE_1 =
  'analysis.ipynb: the kernel was stopped because it ran out of memory (it used 7.6 GiB; this server may use 8.0 GiB).';

function oomEvent(id: number, path = 'work/analysis.ipynb'): IOomEvent {
  return {
    id,
    type: 'oom_kill',
    time: Date.now() / 1000,
    kernel_id: `k${id}`,
    kernel_name: 'python3',
    path,
    kernel_memory: Math.round(7.6 * GiB),
    server_memory: Math.round(7.9 * GiB),
    limit: 8 * GiB
  };
}

/**
 * An emission as the server's subscription socket sends it: the schema id
 * and the record's fields (the bus record has a few more than IOomEvent).
 */
function emission(event: IOomEvent): Event.Emission {
  return {
    schema_id: OOM_KILL_SCHEMA_ID,
    ...event,
    session_type: 'notebook',
    memory_figure: 'working_set',
    limit_source: 'cgroup',
    counter_source: 'cgroup',
    exit_signal: 'SIGKILL',
    sample_time: event.time - 0.5
  };
}

function payload(lastEventId: number): IMetrics {
  return {
    ...normalPayload(),
    oom: {
      kernel_kills: lastEventId,
      last_event_id: lastEventId,
      counter_source: 'cgroup'
    }
  };
}

/**
 * A server answering the metrics route with `lastEventId()` and the events
 * route with `events()`; returns the paths requested.
 */
function serve(lastEventId: () => number, events: () => IOomEvent[]): string[] {
  const paths: string[] = [];
  jest.spyOn(ServerConnection, 'makeRequest').mockImplementation(async url => {
    const path = new URL(url).pathname;
    paths.push(path);
    const body = path.endsWith('/events')
      ? { events: events() }
      : payload(lastEventId());
    return new Response(JSON.stringify(body), { status: 200 });
  });
  return paths;
}

function shown(): string[] {
  return Notification.manager.notifications.map(n => n.message);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise(resolve => setTimeout(resolve, 0));
  }
}

describe('EventBusListener', () => {
  it('routes our schemas to their handler and lets the rest pass by', () => {
    const stream = new Stream<unknown, Event.Emission>({});
    const bus = new EventBusListener(stream as unknown as Event.Stream);
    const heard: string[] = [];
    const remove = bus.handle(OOM_KILL_SCHEMA_ID, e =>
      heard.push(String(e.id))
    );
    stream.emit({
      schema_id: 'https://events.jupyter.org/jupyter_server/kernel_actions/v1',
      action: 'restart'
    });
    stream.emit({ schema_id: OOM_KILL_SCHEMA_ID, id: 1 });
    stream.emit({ schema_id: `${OOM_KILL_SCHEMA_ID}x`, id: 2 });
    expect(heard).toEqual(['1']);
    remove();
    stream.emit({ schema_id: OOM_KILL_SCHEMA_ID, id: 3 });
    expect(heard).toEqual(['1']);
  });

  it("survives a handler's error and stops listening when disposed", () => {
    const stream = new Stream<unknown, Event.Emission>({});
    const bus = new EventBusListener(stream as unknown as Event.Stream);
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    const heard: number[] = [];
    bus.handle(OOM_KILL_SCHEMA_ID, e => {
      if (e.id === 1) {
        throw new Error('bad');
      }
      heard.push(e.id as number);
    });
    stream.emit({ schema_id: OOM_KILL_SCHEMA_ID, id: 1 });
    stream.emit({ schema_id: OOM_KILL_SCHEMA_ID, id: 2 });
    expect(heard).toEqual([2]);
    expect(warn).toHaveBeenCalledTimes(1);
    bus.dispose();
    expect(bus.isDisposed).toBe(true);
    stream.emit({ schema_id: OOM_KILL_SCHEMA_ID, id: 4 });
    expect(heard).toEqual([2]);
    warn.mockRestore();
  });
});

describe('OOM kills heard on the bus and by the poll', () => {
  let model: ResourceMonitorModel;
  let alerts: MemoryAlerts;
  let stream: Stream<unknown, Event.Emission>;
  let bus: EventBusListener;

  beforeEach(() => {
    Notification.dismiss();
    model = new ResourceMonitorModel({
      serverSettings: TEST_SETTINGS,
      standby: 'never',
      refreshRate: 600_000
    });
    alerts = new MemoryAlerts({ model, serverSettings: TEST_SETTINGS });
    stream = new Stream<unknown, Event.Emission>({});
    bus = new EventBusListener(stream as unknown as Event.Stream);
    bus.handle(
      OOM_KILL_SCHEMA_ID,
      oomKillHandler(event => alerts.announceLive(event))
    );
  });
  afterEach(() => {
    bus.dispose();
    alerts.dispose();
    model.dispose();
    jest.restoreAllMocks();
  });

  it('announces at once, and the poll neither repeats it nor fetches for it', async () => {
    let last = 0;
    const events: IOomEvent[] = [];
    const paths = serve(
      () => last,
      () => events
    );
    await model.refresh(); // nothing happened yet
    events.push(oomEvent(1));
    last = 1;
    stream.emit(emission(events[0]));
    expect(shown()).toEqual([MESSAGE_1]); // no poll needed
    await model.refresh();
    await settle();
    expect(shown()).toEqual([MESSAGE_1]);
    expect(paths.filter(p => p.endsWith('/events'))).toHaveLength(0);
    stream.emit(emission(events[0])); // a second subscription's copy, say
    expect(shown()).toHaveLength(1);
  });

  it('does not repeat on the bus what the poll announced', async () => {
    let last = 0;
    const events: IOomEvent[] = [];
    const paths = serve(
      () => last,
      () => events
    );
    await model.refresh();
    events.push(oomEvent(1));
    last = 1;
    await model.refresh();
    await settle();
    expect(shown()).toEqual([MESSAGE_1]);
    expect(paths.filter(p => p.endsWith('/events'))).toHaveLength(1);
    stream.emit(emission(events[0])); // the bus was late (a reconnecting socket)
    expect(shown()).toEqual([MESSAGE_1]);
  });

  it('lets the poll announce what the bus missed, and only that', async () => {
    let last = 0;
    const events: IOomEvent[] = [];
    serve(
      () => last,
      () => events
    );
    await model.refresh();
    // Kill 1 while the socket was down; kill 2 heard on the bus.
    events.push(oomEvent(1), oomEvent(2, 'other.ipynb'));
    last = 2;
    stream.emit(emission(events[1]));
    expect(shown()).toHaveLength(1);
    await model.refresh();
    await settle();
    expect(shown().sort()).toEqual([
      MESSAGE_1,
      'other.ipynb: the kernel was stopped because it ran out of memory (it used 7.6 GiB; this server may use 8.0 GiB).'
    ]);
  });

  it('before the first poll, leaves the recent backlog to the poll and does not repeat the live one', async () => {
    const events = [oomEvent(1), oomEvent(2, 'other.ipynb')];
    serve(
      () => 2,
      () => events
    );
    stream.emit(emission(events[1])); // heard before this tab's first poll
    expect(shown()).toHaveLength(1);
    await model.refresh();
    await settle();
    expect(shown()).toHaveLength(2);
    expect(shown()).toContain(MESSAGE_1);
  });

  it('ignores a malformed emission', () => {
    const warn = jest
      .spyOn(console, 'warn')
      .mockImplementation(() => undefined);
    const { kernel_id, ...broken } = emission(oomEvent(1));
    expect(kernel_id).toBe('k1');
    stream.emit(broken as Event.Emission);
    expect(shown()).toHaveLength(0);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
