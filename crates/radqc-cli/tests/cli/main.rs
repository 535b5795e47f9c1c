//! The `radqc` binary as a user runs it.

mod center;
mod counting;
mod crash;
mod local;
mod score;
mod support;
