//! Decoding the program's accounts from raw account data, as RPC returns it.
//!
//! Zero-copy accounts (Job, Market, Provider, Config, StakePool, StakePosition) are the 8-byte
//! discriminator followed by the `repr(C)` struct; `Auction` is borsh (`#[account]`).

use anchor_lang::{AccountDeserialize, Discriminator};
use cinder::state::Job;

/// Why account bytes are not the account asked for.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("account data is {got} bytes, a {kind} needs {need}")]
    TooShort {
        kind: &'static str,
        need: usize,
        got: usize,
    },
    #[error("account is not a {kind} (discriminator mismatch)")]
    WrongDiscriminator { kind: &'static str },
    #[error("{kind} did not deserialize: {reason}")]
    Borsh { kind: &'static str, reason: String },
}

/// Reads a zero-copy account (`#[account(zero_copy)]`) out of its data.
pub fn zero_copy<T>(data: &[u8]) -> Result<T, DecodeError>
where
    T: bytemuck::Pod + Discriminator,
{
    let kind = short_name::<T>();
    let need = 8 + core::mem::size_of::<T>();
    if data.len() < need {
        return Err(DecodeError::TooShort {
            kind,
            need,
            got: data.len(),
        });
    }
    if &data[..8] != T::DISCRIMINATOR {
        return Err(DecodeError::WrongDiscriminator { kind });
    }
    Ok(bytemuck::pod_read_unaligned(&data[8..need]))
}

/// Reads a borsh account (`#[account]`).
pub fn borsh<T: AccountDeserialize>(data: &[u8]) -> Result<T, DecodeError> {
    let kind = short_name::<T>();
    let mut slice = data;
    T::try_deserialize(&mut slice).map_err(|e| {
        if data.len() >= 8 {
            DecodeError::Borsh {
                kind,
                reason: e.to_string(),
            }
        } else {
            DecodeError::TooShort {
                kind,
                need: 8,
                got: data.len(),
            }
        }
    })
}

fn short_name<T>() -> &'static str {
    let full = core::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full)
}

/// Text of a fixed, zero-padded ASCII field (GPU model, URIs).
pub fn fixed_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The job's spec URI.
pub fn spec_uri(job: &Job) -> String {
    let len = (job.spec_uri_len as usize).min(job.spec_uri.len());
    String::from_utf8_lossy(&job.spec_uri[..len]).into_owned()
}

/// The provider's result endpoint.
pub fn endpoint(p: &cinder::state::Provider) -> String {
    let len = (p.endpoint_len as usize).min(p.endpoint.len());
    String::from_utf8_lossy(&p.endpoint[..len]).into_owned()
}

/// Fixed-size field from text, zero-padded (GPU model names).
pub fn fixed<const N: usize>(text: &str) -> Option<[u8; N]> {
    cinder::state::fixed_ascii::<N>(text.as_bytes())
}

/// The commitment `submit_result` stores: sha256(job ‖ provider ‖ result_hash) (the program's
/// own function). The client recomputes it from the result_hash it receives with the results.
pub use cinder::instructions::{
    commit_verification::verifier_commitment, submit_result::result_commitment,
};

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use bytemuck::Zeroable;
    use cinder::state::{Auction, JobState, Market};

    #[test]
    fn zero_copy_round_trip_and_errors() {
        let mut job = Job::zeroed();
        job.state = JobState::Submitted;
        job.price_per_sec = 77;
        let mut data = Job::DISCRIMINATOR.to_vec();
        data.extend_from_slice(bytemuck::bytes_of(&job));
        let back: Job = zero_copy(&data).unwrap();
        assert_eq!(back.price_per_sec, 77);
        assert_eq!(back.state, JobState::Submitted);
        // A Job is longer than a Market: the discriminator is what tells them apart.
        assert_eq!(
            zero_copy::<Market>(&data).unwrap_err(),
            DecodeError::WrongDiscriminator { kind: "Market" }
        );
        let mut wrong = data.clone();
        wrong[0] ^= 1;
        assert_eq!(
            zero_copy::<Job>(&wrong).unwrap_err(),
            DecodeError::WrongDiscriminator { kind: "Job" }
        );
        assert!(matches!(
            zero_copy::<Job>(&data[..100]).unwrap_err(),
            DecodeError::TooShort { .. }
        ));
        assert!(matches!(
            borsh::<Auction>(&data).unwrap_err(),
            DecodeError::Borsh { .. }
        ));
    }

    #[test]
    fn commitment_binds_job_provider_and_hash() {
        let j = Pubkey::new_from_array([1; 32]);
        let p = Pubkey::new_from_array([2; 32]);
        let c = result_commitment(&j, &p, &[3; 32]);
        assert_ne!(c, result_commitment(&p, &j, &[3; 32]));
        assert_ne!(c, result_commitment(&j, &p, &[4; 32]));
    }
}
