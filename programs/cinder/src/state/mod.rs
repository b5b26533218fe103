mod auction;
mod bps;
mod config;
mod job;
mod market;
mod provider;
mod stake;

pub use auction::*;
pub use bps::*;
pub use config::*;
pub use job::*;
pub use market::*;
pub use provider::*;
pub use stake::*;

/// Fixed-size, zero-padded printable-ASCII text (GPU model names, URIs).
pub fn fixed_ascii<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.is_empty() || text.len() > N || !text.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    let mut out = [0u8; N];
    out[..text.len()].copy_from_slice(text);
    Some(out)
}

// Account layouts are part of the protocol (clients filter and decode by offset): pin them.
// Evaluated at compile time, where an overflow is a build error.
#[allow(clippy::arithmetic_side_effects)]
const _: () = {
    assert!(core::mem::size_of::<Config>() == 224);
    assert!(core::mem::size_of::<Market>() == 320);
    assert!(core::mem::offset_of!(Market, protocol_fees_accrued) == 256);
    assert!(core::mem::size_of::<MarketParams>() == 120);
    assert!(core::mem::size_of::<Provider>() == 328);
    assert!(core::mem::size_of::<Job>() == 744);
    assert!(core::mem::size_of::<StakePool>() == 248);
    assert!(core::mem::size_of::<StakePosition>() == 128);
    assert!(core::mem::offset_of!(Job, state) + 8 == Job::STATE_OFFSET);
};

#[cfg(test)]
mod tests;
