// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import type * as React from 'react';

/**
 * The props that make an element act as a button: focusable, activated by a
 * click, Enter or Space (both status items use them).
 *
 * @param onActivate - What activating the element does.
 */
export function buttonProps(onActivate: () => void): {
  role: 'button';
  tabIndex: number;
  onClick: () => void;
  onKeyDown: (event: React.KeyboardEvent) => void;
} {
  return {
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
