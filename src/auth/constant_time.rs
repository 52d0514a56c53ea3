//! Comparing secrets without telling an attacker how close a guess came.
//!
//! Both sides are hashed first, so neither the position of the first difference nor the
//! secret's length shows in the timing; the digests are then compared with `subtle`, whose
//! comparison the optimiser cannot turn into an early exit.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Whether `given` equals `secret`, in time that depends on neither.
pub fn eq(given: &[u8], secret: &[u8]) -> bool {
    Sha256::digest(given).ct_eq(&Sha256::digest(secret)).into()
}

/// Whether `given` equals any of `secrets` (several while rotating). Every secret is compared,
/// so the timing does not tell which one matched.
pub fn any_eq(given: &[u8], secrets: &[Vec<u8>]) -> bool {
    secrets
        .iter()
        .fold(false, |matched, secret| matched | eq(given, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_only_when_every_byte_and_the_length_agree() {
        assert!(eq(b"state-1234", b"state-1234"));
        for other in [&b"state-123"[..], b"state-12345", b"State-1234", b""] {
            assert!(!eq(other, b"state-1234"), "{other:?}");
        }
        assert!(eq(b"", b""));
        let secrets = vec![b"new".to_vec(), b"old".to_vec()];
        assert!(any_eq(b"old", &secrets));
        assert!(!any_eq(b"older", &secrets));
        assert!(!any_eq(b"old", &[]));
    }
}
