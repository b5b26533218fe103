mod auction;
mod bps;
mod config;
mod job;
mod market;
mod provider;

pub use auction::*;
pub use bps::*;
pub use config::*;
pub use job::*;
pub use market::*;
pub use provider::*;

/// Fixed-size, zero-padded printable-ASCII text (GPU model names, URIs).
pub fn fixed_ascii<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.is_empty() || text.len() > N || !text.iter().all(|b| (0x20..0x7f).contains(b)) {
        return None;
    }
    let mut out = [0u8; N];
    out[..text.len()].copy_from_slice(text);
    Some(out)
}
