//! The center over real HTTP on a loopback port, on SQLite and (when `.ci/run` or the developer
//! provides one) PostgreSQL: every test runs against each backend.

mod api;
mod busy;
mod gold;
mod grants;
mod openapi;
mod ris;
mod secrets;
mod stored;
mod support;
mod trust;
