//! Dates, people and scores as a reader sees them, in the UI's language.

/** "2026-11-02 09:00" in the workstation's time zone; the raw text if it is not a date. */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  // One fixed, sortable shape in both languages: reviewers compare times across rows.
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "王磊 (A1)" when the roster knows the code, else the code alone. */
export function staffLabel(code: string | null | undefined, names: Record<string, string>): string {
  if (!code) return "—";
  const name = names[code];
  return name ? `${name} (${code})` : code;
}

/** A local calendar day (`YYYY-MM-DD`, from a date input) as the RFC 3339 instant it starts. */
export function dayStart(day: string): string | undefined {
  if (!day) return undefined;
  const d = new Date(`${day}T00:00:00`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The last instant of a local calendar day, so "to" includes the whole day. */
export function dayEnd(day: string): string | undefined {
  if (!day) return undefined;
  const d = new Date(`${day}T23:59:59.999`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
