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
 * The bundle every text goes through: `trans.__('Mem: %1', used)`, and
 * `trans._n('%1 minute', '%1 minutes', n)` for plurals.
 *
 * #### Notes
 * It forwards to the bundle {@link setTranslator} loaded, so modules can
 * import it once. The name and the call form (`trans.__` with a string
 * literal first) are what `jupyterlab-translate extract`, which language
 * packs run, recognises: other spellings are not collected.
 */
export const trans: TranslationBundle = {
  __: (msgid, ...args) => Private.bundle.__(msgid, ...args),
  _n: (msgid, plural, n, ...args) =>
    Private.bundle._n(msgid, plural, n, ...args),
  _p: (ctx, msgid, ...args) => Private.bundle._p(ctx, msgid, ...args),
  _np: (ctx, msgid, plural, n, ...args) =>
    Private.bundle._np(ctx, msgid, plural, n, ...args),
  gettext: (msgid, ...args) => Private.bundle.gettext(msgid, ...args),
  ngettext: (msgid, plural, n, ...args) =>
    Private.bundle.ngettext(msgid, plural, n, ...args),
  pgettext: (ctx, msgid, ...args) =>
    Private.bundle.pgettext(ctx, msgid, ...args),
  npgettext: (ctx, msgid, plural, n, ...args) =>
    Private.bundle.npgettext(ctx, msgid, plural, n, ...args),
  dcnpgettext: (domain, ctx, msgid, plural, n, ...args) =>
    Private.bundle.dcnpgettext(domain, ctx, msgid, plural, n, ...args)
};

/**
 * The same bundle, for code written as `const trans = bundle();`.
 */
export function bundle(): TranslationBundle {
  return trans;
}

namespace Private {
  // Assigned by setTranslator (eslint's prefer-const cannot see through the
  // namespace).
  // eslint-disable-next-line prefer-const
  export let bundle: TranslationBundle =
    nullTranslator.load(TRANSLATION_DOMAIN);
}
