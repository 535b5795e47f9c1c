//! The cost of checking a person's secret: one argon2id verification at the product's
//! parameters (`credential::PARAMS`), which a person waits for once per sign-in and an attacker
//! pays per guess, beside the floor measured in the same run: one SHA-256 of the same salt and
//! secret (what a guess would cost against a fast hash), and the accepted minimum
//! (`MIN_PARAMS`). Goal: one verification at most 300 ms on a 2-core workstation.
//! `cargo bench -p radqc-domain --bench credential`.

use criterion::{criterion_group, criterion_main, Criterion};
use radqc_domain::credential::{self, MIN_PARAMS, PARAMS};
use sha2::{Digest, Sha256};

fn verification(c: &mut Criterion) {
    let product = credential::make_verifier("Zhao-Min-77", &[9; 16]);
    let minimum = credential::make_verifier_with("Zhao-Min-77", &[9; 16], MIN_PARAMS);
    let mut group = c.benchmark_group("secret check");
    group.sample_size(10);
    group.bench_function("floor: sha256(salt, secret)", |b| {
        b.iter(|| Sha256::new().chain_update([9u8; 16]).chain_update(std::hint::black_box("Zhao-Min-77")).finalize())
    });
    group.bench_function(
        format!("argon2id product m={} KiB t={} p={}", PARAMS.memory_kib, PARAMS.iterations, PARAMS.lanes),
        |b| b.iter(|| assert_eq!(credential::verify(&product, "Zhao-Min-77"), Ok(true))),
    );
    group.bench_function(
        format!("argon2id minimum m={} KiB t={} p={}", MIN_PARAMS.memory_kib, MIN_PARAMS.iterations, MIN_PARAMS.lanes),
        |b| b.iter(|| assert_eq!(credential::verify(&minimum, "Zhao-Min-77"), Ok(true))),
    );
    // The costlier setting PARAMS was weighed against (RFC 9106's low-memory option, one lane).
    let rfc = credential::Argon2Cost { memory_kib: 64 * 1024, iterations: 3, lanes: 1 };
    let costlier = credential::make_verifier_with("Zhao-Min-77", &[9; 16], rfc);
    group.bench_function("argon2id costlier m=65536 KiB t=3 p=1", |b| {
        b.iter(|| assert_eq!(credential::verify(&costlier, "Zhao-Min-77"), Ok(true)))
    });
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
