//! The machine's NVIDIA GPUs through NVML (loaded at run time, so the worker runs, and says
//! why, on machines without one), and the allocator that hands whole GPUs to jobs.

use nvml_wrapper::{error::NvmlError, Nvml};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    collections::BTreeMap,
    ffi::OsStr,
    sync::{Arc, Mutex},
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
    /// Total memory as NVML reports it: a little less than the card's nominal size (the
    /// driver reserves some), e.g. 81,559 MiB on an H100 80GB; see [`nominal_vram_gib`].
    pub memory_mib: u64,
    /// PCI device id as NVML reports it (`0x233510DE` for an H200 SXM): vendor in the low
    /// 16 bits, device in the high 16.
    #[serde(default)]
    pub pci_device_id: u32,
    /// MIG mode is on: the GPU is split into instances, and a whole-GPU lease of it would
    /// not give a job the whole card (or any CUDA device at all).
    #[serde(default)]
    pub mig_enabled: bool,
}

impl Gpu {
    /// The card's memory as it is sold (GiB, the figure markets state): see
    /// [`nominal_vram_gib`].
    pub fn nominal_vram_gib(&self) -> u64 {
        nominal_vram_gib(&self.name, self.memory_mib)
    }
}

/// Nominal memory (GB as sold) of current data-center and workstation cards, keyed by the name
/// NVML reports, with the total NVML reports for them (MiB) as measured on real cards. NVML's
/// total is below the nominal size because the driver reserves memory, so dividing it by 1024
/// puts an H100 80GB at 79 and an H200 at 140, and neither would match a market that asks for
/// 80 or 141.
pub const NOMINAL_VRAM: &[(&str, u64, u64)] = &[
    // (NVML name, NVML total MiB, nominal GB)
    ("NVIDIA H200", 143_771, 141),
    ("NVIDIA H200 NVL", 143_771, 141),
    ("NVIDIA H100 80GB HBM3", 81_559, 80),
    ("NVIDIA H100 PCIe", 81_559, 80),
    ("NVIDIA H100 NVL", 95_830, 94),
    ("NVIDIA GH200 480GB", 97_871, 96),
    ("NVIDIA A100-SXM4-80GB", 81_920, 80),
    ("NVIDIA A100 80GB PCIe", 81_920, 80),
    ("NVIDIA A100-SXM4-40GB", 40_960, 40),
    ("NVIDIA A100-PCIE-40GB", 40_960, 40),
    ("NVIDIA L40S", 46_068, 48),
    ("NVIDIA L40", 46_068, 48),
    ("NVIDIA L4", 23_034, 24),
    ("NVIDIA A10G", 23_028, 24),
    ("NVIDIA A10", 23_028, 24),
    ("NVIDIA RTX 6000 Ada Generation", 49_140, 48),
    ("NVIDIA RTX A6000", 49_140, 48),
    ("NVIDIA GeForce RTX 4090", 24_564, 24),
    ("NVIDIA GeForce RTX 3090", 24_576, 24),
];

/// The nominal memory of a card NVML names `name` with `memory_mib` in total: the table's
/// figure for a known card; for another, the total rounded *up* to whole GiB (the reserve is
/// under a GiB on the cards measured, and a card never has more memory than it is sold with).
pub fn nominal_vram_gib(name: &str, memory_mib: u64) -> u64 {
    NOMINAL_VRAM
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, _, gb)| gb)
        .unwrap_or_else(|| memory_mib.div_ceil(1024))
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

/// A failed NVML query of `what`.
fn query(what: String) -> impl FnOnce(NvmlError) -> GpuError {
    move |e: NvmlError| GpuError::Query {
        what,
        reason: e.to_string(),
    }
}

/// NVML loaded from `library`, and `read` applied to every device in index order.
fn each_device<T>(
    library: &OsStr,
    mut read: impl FnMut(u32, &nvml_wrapper::Device) -> Result<T, GpuError>,
) -> Result<Vec<T>, GpuError> {
    let nvml = Nvml::builder()
        .lib_path(library)
        .init()
        .map_err(|e| unavailable(library, e))?;
    let count = nvml
        .device_count()
        .map_err(query("the device count".into()))?;
    (0..count)
        .map(|index| {
            let device = nvml
                .device_by_index(index)
                .map_err(query(format!("device {index}")))?;
            read(index, &device)
        })
        .collect()
}

/// [`inventory`] with NVML loaded from `library` (a path or a name for the dynamic loader).
pub fn inventory_with_library(library: &OsStr) -> Result<Vec<Gpu>, GpuError> {
    each_device(library, |index, device| {
        Ok(Gpu {
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
            pci_device_id: device
                .pci_info()
                .map_err(query(format!("the PCI info of device {index}")))?
                .pci_device_id,
            // Cards without MIG answer NotSupported: MIG is off on them.
            mig_enabled: match device.mig_mode() {
                Ok(mode) => mode.current != 0,
                Err(NvmlError::NotSupported) => false,
                Err(e) => return Err(query(format!("the MIG mode of device {index}"))(e)),
            },
        })
    })
}

/// Processes using each GPU for compute now, by UUID (pid, bytes of GPU memory or 0 where the
/// driver does not say). A GPU about to be leased should have none: another tenant's process
/// (or an orphan of a killed job) would share it with the job.
pub fn compute_processes() -> Result<BTreeMap<String, Vec<(u32, u64)>>, GpuError> {
    use nvml_wrapper::enums::device::UsedGpuMemory;
    let per_device = each_device(OsStr::new(NVML_LIBRARY), |index, device| {
        let uuid = device
            .uuid()
            .map_err(query(format!("the uuid of device {index}")))?;
        let procs = device
            .running_compute_processes()
            .map_err(query(format!("the processes on device {index}")))?
            .into_iter()
            .map(|p| match p.used_gpu_memory {
                UsedGpuMemory::Used(bytes) => (p.pid, bytes),
                UsedGpuMemory::Unavailable => (p.pid, 0),
            })
            .collect();
        Ok((uuid, procs))
    })?;
    Ok(per_device.into_iter().collect())
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

/// Hands out whole GPUs: a GPU is in at most one lease at a time, and a lease gives its GPUs
/// back when it is dropped (also when the task holding it panics or is aborted), so a GPU is
/// never lost to the pool. Clones share the pool.
#[derive(Debug, Clone)]
pub struct GpuPool {
    free: Arc<Mutex<BTreeMap<u32, Gpu>>>,
}

/// GPUs held by one job, until it is dropped. Not `Clone`: a GPU cannot be returned twice
/// (and then handed to two jobs).
#[derive(Debug)]
pub struct GpuLease {
    free: Arc<Mutex<BTreeMap<u32, Gpu>>>,
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

impl Drop for GpuLease {
    fn drop(&mut self) {
        let mut free = lock(&self.free);
        for g in self.gpus.drain(..) {
            free.insert(g.index, g);
        }
    }
}

/// The pool's state stays consistent across a panic elsewhere (each change is one insert or
/// one all-or-nothing removal), so a poisoned lock is used as it is.
fn lock(m: &Mutex<BTreeMap<u32, Gpu>>) -> std::sync::MutexGuard<'_, BTreeMap<u32, Gpu>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl GpuPool {
    /// A pool of these GPUs, all free. Duplicate indices are kept once; GPUs in MIG mode are
    /// left out (a whole-GPU lease of one would not give the job the card).
    pub fn new(gpus: Vec<Gpu>) -> GpuPool {
        GpuPool {
            free: Arc::new(Mutex::new(
                gpus.into_iter()
                    .filter(|g| !g.mig_enabled)
                    .map(|g| (g.index, g))
                    .collect(),
            )),
        }
    }

    /// Whether the GPU with this UUID is in the pool and free now.
    pub fn is_free(&self, uuid: &str) -> bool {
        lock(&self.free).values().any(|g| g.uuid == uuid)
    }

    /// Free GPUs now.
    pub fn free(&self) -> usize {
        lock(&self.free).len()
    }

    /// Free GPUs with at least `min_vram_gib` of nominal memory each.
    pub fn free_with(&self, min_vram_gib: u64) -> usize {
        lock(&self.free)
            .values()
            .filter(|g| g.nominal_vram_gib() >= min_vram_gib)
            .count()
    }

    /// `count` free GPUs with at least `min_vram_gib` of nominal memory each (the figure a
    /// spec's `min_vram_gib` and a market's class state; lowest indices first), or `None`
    /// when there are not that many: all or nothing.
    pub fn take(&self, count: usize, min_vram_gib: u64) -> Option<GpuLease> {
        self.take_where(count, |g| g.nominal_vram_gib() >= min_vram_gib)
    }

    /// [`take`](Self::take), of the model NVML names `model` only (a market's class): a host
    /// with cards of several models never runs a job on a card of another class.
    pub fn take_model(&self, model: &str, count: usize, min_vram_gib: u64) -> Option<GpuLease> {
        self.take_where(count, |g| {
            g.name == model && g.nominal_vram_gib() >= min_vram_gib
        })
    }

    /// [`take_model`](Self::take_model) (any model when `None`), passing over the GPUs in
    /// `busy` (UUIDs where NVML sees another process: a job must not share its GPU).
    pub fn take_idle(
        &self,
        model: Option<&str>,
        count: usize,
        min_vram_gib: u64,
        busy: &std::collections::HashSet<String>,
    ) -> Option<GpuLease> {
        self.take_where(count, |g| {
            model.is_none_or(|m| g.name == m)
                && g.nominal_vram_gib() >= min_vram_gib
                && !busy.contains(&g.uuid)
        })
    }

    /// Exactly the GPUs with these UUIDs, if all are free (a container re-attached after a
    /// restart keeps the GPUs it was started with).
    pub fn take_uuids(&self, uuids: &[String]) -> Option<GpuLease> {
        self.take_where(uuids.len(), |g| uuids.contains(&g.uuid))
    }

    fn take_where(&self, count: usize, fits: impl Fn(&Gpu) -> bool) -> Option<GpuLease> {
        let mut free = lock(&self.free);
        let picked: Vec<u32> = free
            .values()
            .filter(|g| fits(g))
            .map(|g| g.index)
            .take(count)
            .collect();
        if picked.len() < count {
            return None;
        }
        let gpus = picked.iter().filter_map(|i| free.remove(i)).collect();
        Some(GpuLease {
            free: self.free.clone(),
            gpus,
        })
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
            pci_device_id: 0x2330_10de,
            mig_enabled: false,
        }
    }

    #[test]
    fn real_cards_get_their_nominal_memory_not_nvmls_total_rounded_down() {
        // NVML's totals as real cards report them (the H200's read on the GPU machine by
        // scripts/gpu-check.sh: 143,771 MiB), and the memory each is sold with.
        for (name, mib, nominal) in [
            ("NVIDIA H100 80GB HBM3", 81_559, 80),
            ("NVIDIA H200", 143_771, 141),
            ("NVIDIA A100-SXM4-40GB", 40_960, 40),
            ("NVIDIA A100-SXM4-80GB", 81_920, 80),
            ("NVIDIA L40S", 46_068, 48),
            ("NVIDIA GeForce RTX 4090", 24_564, 24),
        ] {
            assert_eq!(nominal_vram_gib(name, mib), nominal, "{name}");
            // What the worker did before: the market for the card could never be served.
            if name != "NVIDIA A100-SXM4-40GB" && name != "NVIDIA A100-SXM4-80GB" {
                assert!(mib / 1024 < nominal, "{name}: the old rule already matched");
            }
        }
        // A card the table does not know: its total rounded up, never down.
        assert_eq!(nominal_vram_gib("NVIDIA Future GPU", 97_000), 95);
        assert_eq!(nominal_vram_gib("NVIDIA Future GPU", 98_304), 96);
        let g = Gpu {
            memory_mib: 143_771,
            name: "NVIDIA H200".into(),
            ..gpu(0, 0)
        };
        assert_eq!(g.nominal_vram_gib(), 141);
    }

    #[test]
    fn every_table_row_is_consistent() {
        for (name, mib, nominal) in NOMINAL_VRAM {
            // The driver's reserve is small: a row whose total is far from its nominal size
            // (or above it) is a typo.
            assert!(
                *mib <= nominal * 1024 + 1024,
                "{name}: {mib} MiB above {nominal} GB"
            );
            assert!(
                *mib * 100 >= nominal * 1024 * 92,
                "{name}: {mib} MiB far below {nominal} GB"
            );
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
        let pool = GpuPool::new(vec![gpu(0, 80000), gpu(1, 80000), gpu(2, 40000)]);
        let a = pool.take(2, 0).unwrap();
        assert_eq!(a.iter().map(|g| g.index).collect::<Vec<_>>(), [0, 1]);
        assert!(pool.take(2, 0).is_none(), "only one left: all or nothing");
        assert_eq!(pool.free(), 1, "a refused take holds nothing");
        let b = pool.clone().take(1, 0).unwrap();
        assert_eq!(b[0].index, 2);
        assert!(pool.take(1, 0).is_none(), "a clone shares the pool");
        drop(a);
        assert_eq!(pool.free(), 2);
        let c = pool.take(2, 0).unwrap();
        assert!(c.iter().all(|g| b.iter().all(|h| h.uuid != g.uuid)));
        drop((b, c));
        assert_eq!(pool.free(), 3);
    }

    #[test]
    fn a_lease_held_by_a_panicking_task_comes_back() {
        let pool = GpuPool::new(vec![gpu(0, 81_559)]);
        let p = pool.clone();
        let r = std::thread::spawn(move || {
            let _lease = p.take(1, 80).unwrap();
            panic!("the job's task failed while it held the GPU");
        })
        .join();
        assert!(r.is_err());
        assert_eq!(pool.free(), 1, "the GPU is free again");
        assert!(pool.take(1, 80).is_some());
    }

    #[test]
    fn the_pool_honours_a_nominal_memory_minimum() {
        let small = Gpu {
            name: "NVIDIA A100-SXM4-40GB".into(),
            ..gpu(0, 40_960)
        };
        // An H100 80GB as NVML reports it: 81,559 MiB, below 80 × 1024.
        let pool = GpuPool::new(vec![small, gpu(1, 81_559)]);
        assert_eq!(pool.free_with(80), 1);
        assert_eq!(pool.free_with(41), 1);
        assert_eq!(pool.free_with(0), 2);
        let big = pool.take(1, 80).unwrap();
        assert_eq!(big[0].index, 1);
        assert!(pool.take(1, 80).is_none());
        drop(big);
        assert!(
            pool.take(1, 81).is_none(),
            "no card here is sold with 81 GB"
        );
    }

    #[test]
    fn a_job_of_a_class_is_leased_only_cards_of_that_class() {
        let l40s = Gpu {
            name: "NVIDIA L40S".into(),
            ..gpu(0, 46_068)
        };
        let pool = GpuPool::new(vec![l40s, gpu(1, 81_559)]);
        // The L40S (48 GB) would do by memory alone for a 40 GB job of the H100 class.
        let l = pool.take_model("NVIDIA H100 80GB HBM3", 1, 40).unwrap();
        assert_eq!(l[0].name, "NVIDIA H100 80GB HBM3");
        assert!(pool.take_model("NVIDIA H100 80GB HBM3", 1, 40).is_none());
        assert_eq!(pool.take(1, 40).unwrap()[0].name, "NVIDIA L40S");
    }

    #[test]
    fn gpus_in_mig_mode_are_never_leased_whole() {
        let mig = Gpu {
            mig_enabled: true,
            ..gpu(0, 81_559)
        };
        let pool = GpuPool::new(vec![mig, gpu(1, 81_559)]);
        assert_eq!(pool.free(), 1);
        let l = pool.take(1, 80).unwrap();
        assert_eq!(l[0].index, 1);
        assert!(pool.take(1, 0).is_none());
    }
}
