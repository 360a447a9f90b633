// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import {
  CurrentKernelTracker,
  IKernelSource,
  IKernelWidget,
  IKernelWidgetTracker
} from '../../kernels/currentKernel';

/**
 * A session context whose kernel can be swapped, as a restart would.
 */
class FakeSessionContext implements IKernelSource {
  constructor(kernelId: string | null) {
    this.session = { kernel: kernelId ? { id: kernelId } : null };
  }
  session: { kernel: { id: string } | null } | null;
  kernelChanged = new Signal<this, void>(this);
  sessionChanged = new Signal<this, void>(this);

  setKernel(id: string | null): void {
    this.session = { kernel: id ? { id } : null };
    this.kernelChanged.emit();
  }
}

/**
 * A notebook or console stand-in.
 */
function kernelWidget(kernelId: string | null): IKernelWidget & {
  sessionContext: FakeSessionContext;
} {
  const widget = new Widget() as Widget & {
    sessionContext: FakeSessionContext;
  };
  widget.sessionContext = new FakeSessionContext(kernelId);
  return widget;
}

/**
 * A widget tracker stand-in.
 */
class FakeTracker implements IKernelWidgetTracker {
  constructor(readonly widgets: IKernelWidget[]) {}
  currentWidget: IKernelWidget | null = null;
  currentChanged = new Signal<this, IKernelWidget | null>(this);
  has(widget: Widget): boolean {
    return this.widgets.includes(widget as IKernelWidget);
  }
  focus(widget: IKernelWidget | null): void {
    this.currentWidget = widget;
    this.currentChanged.emit(widget);
  }
}

/**
 * An application shell stand-in.
 */
class FakeShell {
  currentWidget: Widget | null = null;
  currentChanged = new Signal<this, void>(this);
  focus(widget: Widget | null): void {
    this.currentWidget = widget;
    this.currentChanged.emit();
  }
}

describe('CurrentKernelTracker', () => {
  let tracker: CurrentKernelTracker;

  afterEach(() => {
    tracker?.dispose();
  });

  describe('with a shell', () => {
    it("follows the shell's current notebook or console", () => {
      const notebook = kernelWidget('kernel-a');
      const console_ = kernelWidget('kernel-b');
      const editor = new Widget();
      const shell = new FakeShell();
      const notebooks = new FakeTracker([notebook]);
      const consoles = new FakeTracker([console_]);
      shell.currentWidget = notebook;
      tracker = new CurrentKernelTracker({
        shell,
        trackers: [notebooks, consoles]
      });
      expect(tracker.kernelId).toBe('kernel-a');

      const changes: Array<string | null> = [];
      tracker.changed.connect((_, id) => changes.push(id));
      shell.focus(console_);
      shell.focus(editor); // no kernel: hidden
      shell.focus(notebook);
      shell.focus(notebook);
      expect(changes).toEqual(['kernel-b', null, 'kernel-a']);
      expect(tracker.widget).toBe(notebook);
    });

    it('ignores widgets no tracker holds, even with a session', () => {
      const stray = kernelWidget('kernel-x');
      const shell = new FakeShell();
      shell.currentWidget = stray;
      tracker = new CurrentKernelTracker({
        shell,
        trackers: [new FakeTracker([]), null]
      });
      expect(tracker.kernelId).toBeNull();
    });

    it("follows the current widget's kernel changes and drops the old widget's", () => {
      const first = kernelWidget(null);
      const second = kernelWidget('kernel-b');
      const shell = new FakeShell();
      shell.currentWidget = first;
      tracker = new CurrentKernelTracker({
        shell,
        trackers: [new FakeTracker([first, second])]
      });
      expect(tracker.kernelId).toBeNull();
      const changes: Array<string | null> = [];
      tracker.changed.connect((_, id) => changes.push(id));

      first.sessionContext.setKernel('kernel-a'); // kernel started
      first.sessionContext.setKernel('kernel-a2'); // restarted elsewhere
      shell.focus(second);
      first.sessionContext.setKernel('kernel-a3'); // not current: ignored
      expect(changes).toEqual(['kernel-a', 'kernel-a2', 'kernel-b']);
    });
  });

  describe('without a shell', () => {
    it('follows the tracker that changed last', () => {
      const notebook = kernelWidget('kernel-a');
      const console_ = kernelWidget('kernel-b');
      const notebooks = new FakeTracker([notebook]);
      const consoles = new FakeTracker([console_]);
      notebooks.currentWidget = notebook;
      tracker = new CurrentKernelTracker({ trackers: [notebooks, consoles] });
      expect(tracker.kernelId).toBe('kernel-a');
      consoles.focus(console_);
      expect(tracker.kernelId).toBe('kernel-b');
      notebooks.focus(notebook);
      expect(tracker.kernelId).toBe('kernel-a');
      notebook.dispose();
      notebooks.focus(null);
      expect(tracker.kernelId).toBeNull();
    });
  });

  describe('#dispose()', () => {
    it('stops following and is idempotent', () => {
      const notebook = kernelWidget('kernel-a');
      const shell = new FakeShell();
      shell.currentWidget = notebook;
      tracker = new CurrentKernelTracker({
        shell,
        trackers: [new FakeTracker([notebook])]
      });
      let changes = 0;
      tracker.changed.connect(() => changes++);
      tracker.dispose();
      notebook.sessionContext.setKernel('kernel-z');
      shell.focus(null);
      expect(changes).toBe(0);
      expect(tracker.isDisposed).toBe(true);
      tracker.dispose();
    });
  });
});
