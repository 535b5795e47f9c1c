//! The UI's message catalogs and the i18n instance: Simplified Chinese first, English on toggle.
//!
//! Only UI strings live here. Criterion texts and item names come from the rubric data.

import { createI18n } from "vue-i18n";
import zhCN from "./zh-CN.json";
import en from "./en.json";

export type Locale = "zh-CN" | "en";

export const DEFAULT_LOCALE: Locale = "zh-CN";

/** The catalog shape is the Chinese one; `en` must have the same keys (checked by vue-tsc). */
export type MessageSchema = typeof zhCN;

export const messages: Record<Locale, MessageSchema> = { "zh-CN": zhCN, en };

export function createAppI18n(locale: Locale = DEFAULT_LOCALE) {
  return createI18n<[MessageSchema], Locale>({
    legacy: false,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages,
  });
}

/** Which half of a rubric `Bilingual` text belongs to a UI locale. */
export function textKey(locale: string): "zh" | "en" {
  return locale === "en" ? "en" : "zh";
}
