//! Secrets from the operating system's randomness.

use rand::TryRngCore;

/// Fills `buffer` with random bytes.
pub fn fill(buffer: &mut [u8]) {
    rand::rngs::OsRng.try_fill_bytes(buffer).expect("the OS provides randomness");
}

/// `bytes` random bytes as lower-case hex.
pub fn secret_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    fill(&mut buffer);
    hex::encode(buffer)
}
