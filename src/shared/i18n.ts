// Copyright (c) jupyter-resource-monitor contributors.
// Distributed under the terms of the Modified BSD License.

import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

/**
 * The gettext domain of the extension's strings.
 */
export const TRANSLATION_DOMAIN = 'jupyter_resource_monitor';

/**
 * Use the application's translator for every string the extension shows.
 *
 * @param translator - The application's translator; null (none offered)
 *   keeps English.
 *
 * #### Notes
 * The texts are built by plain functions (the status items, descriptions,
 * chart captions), so the bundle is module state that the plugins set once
 * at activation, before anything renders.
 */
export function setTranslator(translator: ITranslator | null): void {
  Private.bundle = (translator ?? nullTranslator).load(TRANSLATION_DOMAIN);
}

/**
 * The bundle to translate with: `trans().__('Mem: %1', used)`, and
 * `trans()._n('%1 minute', '%1 minutes', n)` for plurals.
 */
export function trans(): TranslationBundle {
  return Private.bundle;
}

/**
 * The same bundle under the name new code uses: `const trans = bundle();`.
 */
export const bundle = trans;

namespace Private {
  export let bundle: TranslationBundle =
    nullTranslator.load(TRANSLATION_DOMAIN);
}
