//! Clinics → a faulty network → the center: whatever the network and the center do, the center
//! ends with exactly the evaluations and events the clinics saved, each once.

mod client;
mod faults;
mod notices;
mod offline;
mod reports;
