//! The app's screens, as the header's navigation names them.

export type Screen = "signIn" | "active" | "centralized" | "mine" | "sync" | "rubric";
