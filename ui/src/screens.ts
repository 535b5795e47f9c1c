//! The app's screens, as the header's navigation names them.

export type Screen = "signIn" | "active" | "centralized" | "mine" | "gold" | "sync" | "reports" | "import" | "rubric";

import type { Session } from "./wire";

/** Whether the signed-in person holds a role that sees the site's scores (QC officer, head). */
export function maySeeReports(session: Session | null): boolean {
  const roles: string[] = session?.user?.roles ?? [];
  return roles.some((r) => (session?.site_score_roles ?? []).includes(r));
}

/** Whether the signed-in person may import a worklist (导入): the same roles as 报表. */
export function mayImport(session: Session | null): boolean {
  return maySeeReports(session);
}

/** Whether the signed-in person reads gold-standard cases (金标准复核; grants `gold_readers`). */
export function mayReadGold(session: Session | null): boolean {
  return Boolean(session?.user && session.reads_gold);
}
