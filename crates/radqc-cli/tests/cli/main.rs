//! The `radqc` binary as a user runs it.

mod crash;
mod local;
mod score;
mod support;
