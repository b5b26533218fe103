//! What a cinder provider does with a job off chain, independent of the chain:
//!
//! - [`spec`]: the job spec (JSON, its sha256 is the on-chain spec hash), validated, and the
//!   [`spec::Fetcher`] that downloads specs and inputs and checks their hashes;
//! - [`runtime`]: runs a job in a container ([`runtime::ContainerRuntime`], Docker Engine API
//!   against Podman or Docker) or as an operator allow-listed program
//!   ([`runtime::ProcessRuntime`]), on the GPUs it was assigned, under its time limit;
//! - [`gpu`]: NVML inventory (with each card's nominal memory) and the allocator that hands
//!   whole GPUs to jobs;
//! - [`compare`]: two runs' outputs compared under a tolerance (.npy arrays), for GPU work
//!   that is not bit-reproducible;
//! - [`results`]: the result hash of an output directory, the manifest, the crash-safe
//!   result store and the upload to an object store;
//! - [`server`]: serves stored results to the job's client only (signed requests), and the
//!   client side that downloads and checks them;
//! - [`files`]: a small static file server for specs and inputs (demo and tests).
//!
//! Every function that reads or writes files is synchronous unless it is `async`; call the
//! synchronous ones that hash or store large outputs from `spawn_blocking` in async code.
//!
//! Tests run real programs and real containers: `sudo scripts/podman-setup.sh` once per
//! machine (Podman's API socket and the busybox test image), then
//! `cargo test -p cinder-runner`. `CINDER_PODMAN_SOCKET` points the container tests at
//! another socket; `CINDER_SKIP_CONTAINER_TESTS=1` skips them (they say so).

pub use cinder_compare as compare;
pub mod files;
pub mod gpu;
pub mod results;
pub mod runtime;
pub mod server;
pub mod spec;

mod hexser;
mod relpath;
