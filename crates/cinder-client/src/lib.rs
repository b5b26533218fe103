//! Client-side helpers for the cinder program: PDA derivation and one builder per instruction,
//! built from the program crate's own Anchor types so they cannot drift from it; account
//! decoding and error names; and (feature `rpc`) an async JSON-RPC client. Used by the tests,
//! the migrations, the worker and the CLI.

pub mod accounts;
pub mod errors;
pub mod ix;
#[cfg(feature = "rpc")]
pub mod rpc;
#[cfg(feature = "rpc")]
pub mod token;
