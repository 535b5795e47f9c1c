//! Integration tests of the local store on real encrypted SQLite files.

mod bad_files;
mod durability;
mod evaluations;
mod gold;
mod hl7;
mod init;
mod precheck;
mod support;
