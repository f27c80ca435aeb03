//! Prints how long aws-lc takes to produce its first 32 random bytes in this
//! process (seeding its generator: the cost a TLS handshake pays once per
//! cold start) and then the next 32. Built once as configured
//! (`AWS_LC_SYS_NO_JITTER_ENTROPY=1` in .cargo/config.toml) and once with
//! `AWS_LC_SYS_NO_JITTER_ENTROPY=0` in another target dir, it shows what
//! jitter entropy costs.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use std::time::Instant;

fn main() {
    let rng = SystemRandom::new();
    let mut bytes = [0u8; 32];
    let started = Instant::now();
    rng.fill(&mut bytes).expect("random bytes");
    let first = started.elapsed();
    let started = Instant::now();
    rng.fill(&mut bytes).expect("random bytes");
    let second = started.elapsed();
    println!("first_us={} second_us={}", first.as_micros(), second.as_micros());
}
