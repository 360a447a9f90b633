// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type * as React from 'react';

/**
 * The props that make a status item act as a button: named, focusable,
 * activated by a click, Enter or Space (both status items use them).
 *
 * @param onActivate - What activating the element does.
 *
 * @param text - Its class, tooltip and accessible name.
 */
export function buttonProps(
  onActivate: () => void,
  text: { className: string; title: string; label: string }
): {
  className: string;
  title: string;
  'aria-label': string;
  role: 'button';
  tabIndex: number;
  onClick: () => void;
  onKeyDown: (event: React.KeyboardEvent) => void;
} {
  return {
    className: text.className,
    title: text.title,
    'aria-label': text.label,
    role: 'button',
    tabIndex: 0,
    onClick: onActivate,
    onKeyDown: event => {
      if (event.key === 'Enter' || event.key === ' ') {
        // Space would otherwise scroll the page.
        event.preventDefault();
        onActivate();
      }
    }
  };
}
