// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import { PanelLayout, Widget } from '@lumino/widgets';

/**
 * The tallest the popup gets, in px; it scrolls beyond.
 */
const MAX_HEIGHT = 500;

/**
 * Space kept between the popup and the window's edges, in px.
 */
const MARGIN = 4;

/**
 * A popup anchored to a widget: above it near the bottom of the window (the
 * status bar), below it near the top (Jupyter Notebook 7's top area).
 *
 * #### Notes
 * The status bar's own `showPopup` always opens above its anchor, which has
 * no room in a top area. This one also hands focus back to the anchor when it
 * closes with the focus inside (Escape, or a command), so keyboard users are
 * not left on the page body.
 */
export class AnchoredPopup extends Widget {
  /**
   * Create a popup; {@link launch} shows it.
   *
   * @param options - What to show and where.
   */
  constructor(options: AnchoredPopup.IOptions) {
    super();
    this.addClass('jp-ThemedContainer');
    this.addClass(AnchoredPopup.CLASS);
    this._body = options.body;
    this._anchor = options.anchor;
    const layout = (this.layout = new PanelLayout());
    layout.addWidget(options.body);
    // Absent in some test environments (jsdom): then the size is set once.
    this._observer =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver(() => this.update());
  }

  /**
   * Attach the popup to the page next to its anchor.
   */
  launch(): void {
    Widget.attach(this, document.body);
    this.update();
    this._anchor.addClass('jp-mod-clicked');
  }

  /**
   * Handle the DOM events the popup listens to.
   *
   * @param event - A click anywhere, a key in the popup, a window resize.
   */
  handleEvent(event: Event): void {
    switch (event.type) {
      case 'click': {
        const target = event.target as Node | null;
        if (
          target &&
          !this._body.node.contains(target) &&
          !this._anchor.node.contains(target)
        ) {
          this.dispose();
        }
        break;
      }
      case 'keydown':
        // Anywhere on the page: opened from the command palette, the popup
        // does not hold the focus. Only a key meant for the popup is kept
        // from the rest of the page (Escape in a notebook still works).
        if ((event as KeyboardEvent).key === 'Escape') {
          if (this.node.contains(document.activeElement)) {
            event.preventDefault();
            event.stopPropagation();
          }
          this.dispose();
        }
        break;
      case 'resize':
        this.update();
        break;
    }
  }

  /**
   * Close the popup, returning focus to the anchor if it was inside.
   */
  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    const hadFocus = this.node.contains(document.activeElement);
    this._observer?.disconnect();
    this._anchor.removeClass('jp-mod-clicked');
    super.dispose();
    if (hadFocus && !this._anchor.isDisposed) {
      const target =
        this._anchor.node.querySelector<HTMLElement>('[tabindex]') ??
        this._anchor.node;
      target.focus();
    }
  }

  protected onAfterAttach(): void {
    document.addEventListener('click', this, false);
    document.addEventListener('keydown', this, false);
    window.addEventListener('resize', this, false);
    this._observer?.observe(this._body.node);
  }

  protected onBeforeDetach(): void {
    this._observer?.disconnect();
    document.removeEventListener('click', this, false);
    document.removeEventListener('keydown', this, false);
    window.removeEventListener('resize', this, false);
  }

  protected onUpdateRequest(): void {
    // Placed against the viewport, not the page body: in some front ends the
    // body has no height of its own (its content is absolutely positioned).
    const anchor = this._anchor.node.getBoundingClientRect();
    const node = this._body.node;
    const below = anchor.top + anchor.height / 2 < window.innerHeight / 2;
    const room = below ? window.innerHeight - anchor.bottom : anchor.top;
    node.style.position = 'fixed';
    node.style.maxHeight = `${Math.max(0, Math.min(MAX_HEIGHT, room - MARGIN))}px`;
    node.style.top = below ? `${anchor.bottom}px` : '';
    node.style.bottom = below ? '' : `${window.innerHeight - anchor.top}px`;
    const width = node.getBoundingClientRect().width;
    const left = Math.min(anchor.left, window.innerWidth - width - MARGIN);
    node.style.left = `${Math.max(MARGIN, left)}px`;
  }

  private _anchor: Widget;
  private _body: Widget;
  private _observer: ResizeObserver | null;
}

/**
 * A namespace for {@link AnchoredPopup} statics.
 */
export namespace AnchoredPopup {
  /**
   * CSS class of the popup's root.
   */
  export const CLASS = 'jp-ResourceMonitor-popup';

  /**
   * The options of an {@link AnchoredPopup}.
   */
  export interface IOptions {
    /**
     * What the popup shows.
     */
    body: Widget;
    /**
     * The widget it opens next to.
     */
    anchor: Widget;
  }
}
