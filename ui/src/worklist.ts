//! The 导入 screen's logic: a chosen file as base64 (what `import_worklist` takes) and what an
//! import report means for the person reading it.

import type { ImportReport } from "./wire";

/** What a report says happened: a check (dry run), an import, or an import refused because of
 *  bad rows (nothing written: the store writes nothing with bad rows unless they are skipped). */
export type ImportOutcome = "checked" | "imported" | "refused";

export function importOutcome(report: ImportReport, skipBad: boolean): ImportOutcome {
  if (report.dry_run) return "checked";
  return report.bad.length > 0 && !skipBad ? "refused" : "imported";
}

/** The file's bytes as base64 (standard alphabet, padded), read with `FileReader`. */
export function readAsBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      // A data URL: `data:<type>;base64,<bytes>`.
      resolve(url.slice(url.indexOf(",") + 1));
    };
    reader.onerror = () => reject(reader.error ?? new Error("the file could not be read"));
    reader.readAsDataURL(file);
  });
}
