//! The `radqc` binary as a user runs it.

mod center;
mod copies;
mod crash;
mod edges;
mod local;
mod score;
mod support;
