//! The `radqc` binary as a user runs it.

mod center;
mod copies;
mod counting;
mod crash;
mod edges;
mod gate;
mod grants;
mod local;
mod migrations;
mod score;
mod support;
