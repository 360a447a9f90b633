// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

/**
 * Which kernel belongs to the widget the user is working in.
 */

import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

/**
 * The part of a session context this module reads.
 *
 * #### Notes
 * `ISessionContext` of `@jupyterlab/apputils` satisfies it; keeping the type
 * this small lets tests pass plain fakes.
 */
export interface IKernelSource {
  /**
   * The session, whose kernel may be null (no kernel, or not started yet).
   */
  readonly session: {
    readonly kernel: { readonly id: string } | null;
  } | null;
  /**
   * Emitted when the session's kernel changes.
   */
  readonly kernelChanged: ISignal<unknown, unknown>;
  /**
   * Emitted when the session itself changes.
   */
  readonly sessionChanged: ISignal<unknown, unknown>;
}

/**
 * A widget with a session, such as a notebook panel or a console panel.
 */
export interface IKernelWidget extends Widget {
  /**
   * The widget's session context.
   */
  readonly sessionContext: IKernelSource;
}

/**
 * The part of a widget tracker this module reads; `INotebookTracker` and
 * `IConsoleTracker` satisfy it.
 */
export interface IKernelWidgetTracker {
  /**
   * The tracker's current widget, kept when focus moves to another kind of
   * widget.
   */
  readonly currentWidget: IKernelWidget | null;
  /**
   * Emitted when the tracker's current widget changes.
   */
  readonly currentChanged: ISignal<unknown, unknown>;
  /**
   * Whether the tracker holds a widget.
   */
  has(widget: Widget): boolean;
}

/**
 * The part of the application shell this module reads; `ILabShell` satisfies
 * it.
 */
export interface ICurrentWidgetSource {
  /**
   * The widget the user is working in.
   */
  readonly currentWidget: Widget | null;
  /**
   * Emitted when the current widget changes.
   */
  readonly currentChanged: ISignal<unknown, unknown>;
}

/**
 * Follows the kernel of the current notebook or console.
 *
 * #### Notes
 * With a shell, the current widget is the shell's, and it counts only when
 * one of the trackers holds it: a text editor or a terminal has no kernel, so
 * the kernel id is then null. Without a shell (an application that has no
 * `ILabShell`), the widget whose tracker changed last is current. The id also
 * follows kernel changes inside the current widget (restart into another
 * kernel, kernel picked after the notebook opened).
 */
export class CurrentKernelTracker {
  /**
   * Create a tracker and read the current kernel at once.
   *
   * @param options - The shell and the trackers to follow.
   */
  constructor(options: CurrentKernelTracker.IOptions) {
    this._shell = options.shell ?? null;
    this._trackers = options.trackers.filter(
      (tracker): tracker is IKernelWidgetTracker => !!tracker
    );
    this._shell?.currentChanged.connect(this._update, this);
    for (const tracker of this._trackers) {
      tracker.currentChanged.connect(this._onTrackerChanged, this);
    }
    this._lastTracked =
      this._trackers.find(tracker => tracker.currentWidget)?.currentWidget ??
      null;
    this._update();
  }

  /**
   * Emitted when {@link kernelId} changes, with the new id.
   */
  get changed(): ISignal<this, string | null> {
    return this._changed;
  }

  /**
   * The current widget's kernel id, or null when it has no kernel.
   */
  get kernelId(): string | null {
    return this._kernelId;
  }

  /**
   * The current notebook or console, or null.
   */
  get widget(): IKernelWidget | null {
    return this._widget;
  }

  /**
   * Whether the tracker is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Stop following; idempotent.
   */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._watch(null);
    Signal.clearData(this);
  }

  /**
   * Remember the widget of the tracker that changed last, then update.
   */
  private _onTrackerChanged(tracker: unknown): void {
    const source = this._trackers.find(candidate => candidate === tracker);
    if (source?.currentWidget) {
      this._lastTracked = source.currentWidget;
    }
    this._update();
  }

  /**
   * Find the current widget, follow its session, and emit on a new id.
   */
  private _update(): void {
    if (this._isDisposed) {
      return;
    }
    this._watch(this._findWidget());
    const session = this._widget?.sessionContext.session;
    const id = session?.kernel?.id || null;
    if (id !== this._kernelId) {
      this._kernelId = id;
      this._changed.emit(id);
    }
  }

  /**
   * The widget whose kernel counts now.
   */
  private _findWidget(): IKernelWidget | null {
    const candidate = this._shell
      ? this._shell.currentWidget
      : this._lastTracked;
    if (!candidate || candidate.isDisposed) {
      return null;
    }
    const tracked = this._trackers.some(tracker => tracker.has(candidate!));
    return tracked ? (candidate as IKernelWidget) : null;
  }

  /**
   * Follow a widget's session signals, dropping the previous widget's.
   */
  private _watch(widget: IKernelWidget | null): void {
    if (widget === this._widget) {
      return;
    }
    const previous = this._widget?.sessionContext;
    if (previous) {
      previous.kernelChanged.disconnect(this._update, this);
      previous.sessionChanged.disconnect(this._update, this);
    }
    this._widget = widget;
    const next = widget?.sessionContext;
    if (next) {
      next.kernelChanged.connect(this._update, this);
      next.sessionChanged.connect(this._update, this);
    }
  }

  private _changed = new Signal<this, string | null>(this);
  private _isDisposed = false;
  private _kernelId: string | null = null;
  private _lastTracked: IKernelWidget | null;
  private _shell: ICurrentWidgetSource | null;
  private _trackers: IKernelWidgetTracker[];
  private _widget: IKernelWidget | null = null;
}

/**
 * A namespace for {@link CurrentKernelTracker} statics.
 */
export namespace CurrentKernelTracker {
  /**
   * The options of a {@link CurrentKernelTracker}.
   */
  export interface IOptions {
    /**
     * The application shell, if it tracks a current widget (`ILabShell`).
     */
    shell?: ICurrentWidgetSource | null;
    /**
     * The notebook and console trackers; null entries (optional tokens that
     * were not provided) are skipped.
     */
    trackers: ReadonlyArray<IKernelWidgetTracker | null>;
  }
}
