//! The app's screens, as the header's navigation names them.

export type Screen = "signIn" | "active" | "centralized" | "mine" | "sync" | "reports" | "rubric";

import type { Session } from "./wire";

/** Whether the signed-in person holds a role that sees the site's scores (QC officer, head). */
export function maySeeReports(session: Session | null): boolean {
  const roles: string[] = session?.user?.roles ?? [];
  return roles.some((r) => (session?.site_score_roles ?? []).includes(r));
}
