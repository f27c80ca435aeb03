//! Secrets from the operating system's randomness.

use rand::TryRngCore;

/// `bytes` random bytes as lower-case hex.
pub fn secret_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rngs::OsRng.try_fill_bytes(&mut buffer).expect("the OS provides randomness");
    hex::encode(buffer)
}
