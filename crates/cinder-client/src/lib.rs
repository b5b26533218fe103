//! Client-side helpers for the cinder program: PDA derivation and one builder per instruction,
//! built from the program crate's own Anchor types so they cannot drift from it. Used by the
//! tests, the migrations and the worker.

pub mod ix;
