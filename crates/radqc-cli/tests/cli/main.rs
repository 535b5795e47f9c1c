//! The `radqc` binary as a user runs it.

mod center;
mod copies;
mod counting;
mod crash;
mod edges;
mod enroll;
mod gate;
mod gold;
mod grants;
mod import;
mod keystore;
mod local;
mod migrations;
mod precheck;
mod score;
mod secrets;
mod support;
