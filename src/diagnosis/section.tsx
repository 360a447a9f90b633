// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import * as React from 'react';

import type { IKernelUsage } from '../kernels/types';
import type { IMetrics } from '../server/types';
import { trans } from '../shared/i18n';
import type { IThresholds } from './thresholds';
import { diagnose } from './diagnose';

/**
 * CSS class of the "Why is it slow?" section of the detail view.
 */
export const DIAGNOSIS_CLASS = 'jp-ResourceMonitor-diagnosis';

/**
 * The diagnosis as a section: one line per cause, warnings marked; nothing
 * when the server sends no diagnosis figures.
 *
 * @param props - The payload, fresh kernel rows, thresholds and the time.
 */
export function DiagnosisSection(
  props: DiagnosisSection.IProps
): JSX.Element | null {
  const lines = diagnose(props);
  if (lines.length === 0) {
    return null;
  }
  return (
    <section className={DIAGNOSIS_CLASS} aria-labelledby={Private.TITLE_ID}>
      <h4 className="jp-ResourceMonitor-diagnosisTitle" id={Private.TITLE_ID}>
        {trans.__('Why is it slow?')}
      </h4>
      <ul className="jp-ResourceMonitor-diagnosisLines">
        {lines.map(line => (
          <li
            key={line.key}
            className={
              line.heldBack
                ? 'jp-ResourceMonitor-diagnosisLine jp-mod-warn'
                : 'jp-ResourceMonitor-diagnosisLine'
            }
            data-kind={line.kind}
          >
            {line.text}
          </li>
        ))}
      </ul>
    </section>
  );
}

/**
 * A namespace for {@link DiagnosisSection} statics.
 */
export namespace DiagnosisSection {
  /**
   * The props of {@link DiagnosisSection}.
   */
  export interface IProps {
    /**
     * The last payload, or null.
     */
    readonly metrics: IMetrics | null;
    /**
     * Fresh kernel rows (none when the kernel list is not polled).
     */
    readonly kernels: ReadonlyArray<IKernelUsage>;
    /**
     * The thresholds in force.
     */
    readonly thresholds: IThresholds;
    /**
     * The time, in ms since the epoch.
     */
    readonly now: number;
  }
}

/**
 * Module-private constants.
 */
namespace Private {
  /**
   * The id of the section's heading.
   */
  export const TITLE_ID = 'jp-ResourceMonitor-diagnosisTitle';
}
