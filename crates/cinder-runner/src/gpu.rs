//! The machine's NVIDIA GPUs through NVML (loaded at run time, so the worker runs, and says
//! why, on machines without one), and the allocator that hands whole GPUs to jobs.

use nvml_wrapper::{error::NvmlError, Nvml};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    collections::BTreeMap,
    ffi::OsStr,
    sync::atomic::{AtomicU64, Ordering},
};

/// The library NVML is loaded from (the driver's).
pub const NVML_LIBRARY: &str = "libnvidia-ml.so.1";

/// One GPU as NVML reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Gpu {
    pub index: u32,
    /// `GPU-xxxxxxxx-...`: stable across reboots and what CDI and CUDA accept.
    pub uuid: String,
    pub name: String,
    /// Total memory.
    pub memory_mib: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuError {
    #[error("NVML is unavailable: {0}")]
    NvmlUnavailable(String),
    #[error("NVML could not report {what}: {reason}")]
    Query { what: String, reason: String },
}

/// Every GPU of this machine, in NVML index order.
pub fn inventory() -> Result<Vec<Gpu>, GpuError> {
    inventory_with_library(OsStr::new(NVML_LIBRARY))
}

/// [`inventory`] with NVML loaded from `library` (a path or a name for the dynamic loader).
pub fn inventory_with_library(library: &OsStr) -> Result<Vec<Gpu>, GpuError> {
    let nvml = Nvml::builder()
        .lib_path(library)
        .init()
        .map_err(|e| unavailable(library, e))?;
    let query = |what: String| {
        move |e: NvmlError| GpuError::Query {
            what,
            reason: e.to_string(),
        }
    };
    let count = nvml
        .device_count()
        .map_err(query("the device count".into()))?;
    let mut gpus = Vec::with_capacity(count as usize);
    for index in 0..count {
        let device = nvml
            .device_by_index(index)
            .map_err(query(format!("device {index}")))?;
        gpus.push(Gpu {
            index,
            uuid: device
                .uuid()
                .map_err(query(format!("the uuid of device {index}")))?,
            name: device
                .name()
                .map_err(query(format!("the name of device {index}")))?,
            memory_mib: device
                .memory_info()
                .map_err(query(format!("the memory of device {index}")))?
                .total
                / (1024 * 1024),
        });
    }
    Ok(gpus)
}

fn unavailable(library: &OsStr, e: NvmlError) -> GpuError {
    let library = library.to_string_lossy();
    GpuError::NvmlUnavailable(match e {
        NvmlError::LibloadingError(e) => format!(
            "{library} could not be loaded ({e}); install the NVIDIA driver (it ships libnvidia-ml), \
             or run on a machine with an NVIDIA GPU, or serve a CPU market"
        ),
        NvmlError::FailedToLoadSymbol(s) => format!(
            "{library} lacks symbol {s}: the NVIDIA driver is too old or the library is not NVML"
        ),
        NvmlError::DriverNotLoaded => {
            "the NVIDIA kernel driver is not loaded: check `nvidia-smi`, `lsmod | grep nvidia`, and that /dev/nvidia* exist (in a container: run it with the GPUs passed in)".into()
        }
        NvmlError::NoPermission => {
            "no permission to talk to the NVIDIA driver: run the worker as a user that can open /dev/nvidia*".into()
        }
        e => format!("NVML init failed: {e}; check `nvidia-smi`"),
    })
}

/// sha256 over the lines `"{index} {uuid} {name} {memory_mib}\n"` in index order: the
/// inventory hash a provider registers on chain.
pub fn inventory_hash(gpus: &[Gpu]) -> [u8; 32] {
    let mut sorted: Vec<&Gpu> = gpus.iter().collect();
    sorted.sort_by(|a, b| (a.index, &a.uuid).cmp(&(b.index, &b.uuid)));
    let mut hasher = Sha256::new();
    for g in sorted {
        hasher.update(format!(
            "{} {} {} {}\n",
            g.index, g.uuid, g.name, g.memory_mib
        ));
    }
    hasher.finalize().into()
}

/// Hands out whole GPUs: a GPU is in at most one lease at a time.
#[derive(Debug)]
pub struct GpuPool {
    /// Distinguishes this pool's leases from another pool's.
    pool: u64,
    free: BTreeMap<u32, Gpu>,
    leased: BTreeMap<u64, Vec<u32>>,
    next_lease: u64,
}

/// GPUs held by one job. Not `Clone`: giving it back consumes it, so a GPU cannot be
/// returned twice (and then handed to two jobs).
#[derive(Debug, PartialEq, Eq)]
pub struct GpuLease {
    pool: u64,
    id: u64,
    gpus: Vec<Gpu>,
}

impl GpuLease {
    pub fn gpus(&self) -> &[Gpu] {
        &self.gpus
    }
}

impl std::ops::Deref for GpuLease {
    type Target = [Gpu];
    fn deref(&self) -> &[Gpu] {
        &self.gpus
    }
}

impl GpuPool {
    /// A pool of these GPUs, all free. Duplicate indices are kept once.
    pub fn new(gpus: Vec<Gpu>) -> GpuPool {
        static POOLS: AtomicU64 = AtomicU64::new(0);
        GpuPool {
            pool: POOLS.fetch_add(1, Ordering::Relaxed),
            free: gpus.into_iter().map(|g| (g.index, g)).collect(),
            leased: BTreeMap::new(),
            next_lease: 0,
        }
    }

    /// Free GPUs now.
    pub fn free(&self) -> usize {
        self.free.len()
    }

    /// Free GPUs with at least `min_memory_mib` each.
    pub fn free_with(&self, min_memory_mib: u64) -> usize {
        self.free
            .values()
            .filter(|g| g.memory_mib >= min_memory_mib)
            .count()
    }

    /// `count` free GPUs with at least `min_memory_mib` each (lowest indices first), or
    /// `None` when there are not that many: all or nothing.
    pub fn take(&mut self, count: usize, min_memory_mib: u64) -> Option<GpuLease> {
        let picked: Vec<u32> = self
            .free
            .values()
            .filter(|g| g.memory_mib >= min_memory_mib)
            .map(|g| g.index)
            .take(count)
            .collect();
        if picked.len() < count {
            return None;
        }
        let gpus = picked.iter().filter_map(|i| self.free.remove(i)).collect();
        let id = self.next_lease;
        self.next_lease += 1;
        self.leased.insert(id, picked);
        Some(GpuLease {
            pool: self.pool,
            id,
            gpus,
        })
    }

    /// Returns a lease's GPUs to the pool. A lease of another pool is ignored.
    pub fn give_back(&mut self, lease: GpuLease) {
        if lease.pool == self.pool && self.leased.remove(&lease.id).is_some() {
            self.free
                .extend(lease.gpus.into_iter().map(|g| (g.index, g)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(index: u32, memory_mib: u64) -> Gpu {
        Gpu {
            index,
            uuid: format!("GPU-{index:08x}-0000-0000-0000-000000000000"),
            name: "NVIDIA H100 80GB HBM3".into(),
            memory_mib,
        }
    }

    #[test]
    fn inventory_without_nvml_says_what_to_install() {
        // This machine may or may not have a GPU; each answer must be the right one.
        let driver_present = std::path::Path::new("/dev/nvidiactl").exists();
        match inventory() {
            Err(GpuError::NvmlUnavailable(why)) => {
                assert!(
                    !driver_present,
                    "NVML failed although /dev/nvidiactl exists: {why}"
                );
                assert!(
                    why.contains("libnvidia-ml") && why.contains("install the NVIDIA driver"),
                    "{why}"
                );
            }
            Err(e) => panic!("expected NvmlUnavailable, got {e}"),
            Ok(gpus) => {
                assert!(driver_present && !gpus.is_empty(), "{gpus:?}");
                assert!(gpus
                    .iter()
                    .all(|g| g.uuid.starts_with("GPU-") && g.memory_mib > 0));
            }
        }
    }

    #[test]
    fn a_missing_library_path_is_nvml_unavailable() {
        let e = inventory_with_library(OsStr::new("/nonexistent/libnvidia-ml.so.1")).unwrap_err();
        assert!(
            matches!(&e, GpuError::NvmlUnavailable(m) if m.contains("/nonexistent/libnvidia-ml.so.1")),
            "{e}"
        );
    }

    #[test]
    fn inventory_hash_is_order_independent_and_covers_every_field() {
        let a = vec![gpu(0, 81559), gpu(1, 81559)];
        let b = vec![gpu(1, 81559), gpu(0, 81559)];
        assert_eq!(inventory_hash(&a), inventory_hash(&b));
        let expected: [u8; 32] = Sha256::digest(
            "0 GPU-00000000-0000-0000-0000-000000000000 NVIDIA H100 80GB HBM3 81559\n\
             1 GPU-00000001-0000-0000-0000-000000000000 NVIDIA H100 80GB HBM3 81559\n",
        )
        .into();
        assert_eq!(inventory_hash(&a), expected);
        let mut c = a.clone();
        c[1].memory_mib = 40000;
        assert_ne!(inventory_hash(&a), inventory_hash(&c));
        assert_eq!(inventory_hash(&[]), <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[test]
    fn the_pool_never_hands_one_gpu_to_two_jobs() {
        let mut pool = GpuPool::new(vec![gpu(0, 80000), gpu(1, 80000), gpu(2, 40000)]);
        let a = pool.take(2, 0).unwrap();
        assert_eq!(a.iter().map(|g| g.index).collect::<Vec<_>>(), [0, 1]);
        assert!(pool.take(2, 0).is_none(), "only one left: all or nothing");
        assert_eq!(pool.free(), 1, "a refused take holds nothing");
        let b = pool.take(1, 0).unwrap();
        assert_eq!(b[0].index, 2);
        assert!(pool.take(1, 0).is_none());
        pool.give_back(a);
        assert_eq!(pool.free(), 2);
        let c = pool.take(2, 0).unwrap();
        assert!(c.iter().all(|g| b.iter().all(|h| h.uuid != g.uuid)));
        pool.give_back(b);
        pool.give_back(c);
        assert_eq!(pool.free(), 3);
    }

    #[test]
    fn the_pool_honours_a_memory_minimum() {
        let mut pool = GpuPool::new(vec![gpu(0, 40000), gpu(1, 80000)]);
        assert_eq!(pool.free_with(79_000), 1);
        assert_eq!(pool.free_with(0), 2);
        let big = pool.take(1, 80000).unwrap();
        assert_eq!(big[0].index, 1);
        assert!(pool.take(1, 80000).is_none());
        pool.give_back(big);
    }

    #[test]
    fn a_lease_from_another_pool_frees_nothing_here() {
        let mut mine = GpuPool::new(vec![gpu(0, 1)]);
        let mut other = GpuPool::new(vec![gpu(0, 1)]);
        let held = mine.take(1, 0).unwrap();
        let foreign = other.take(1, 0).unwrap();
        // Both are lease 0 of their pool; the foreign one must not free `mine`'s GPU.
        mine.give_back(foreign);
        assert_eq!(mine.free(), 0);
        mine.give_back(held);
        assert_eq!(mine.free(), 1);
    }
}
