//! The limits Lambda puts on a function of a given memory size, as cgroups
//! (v1) around the function's process: CPU in proportion to memory, one
//! full vCPU at 1,769 MB (`cpu.cfs_quota_us` / `cpu.cfs_period_us`), and the
//! memory size itself as a hard limit (`memory.limit_in_bytes`). Only the
//! function runs inside; the bench's engine, proxy and Runtime API do not.
//!
//! Init runs at full CPU by default, and the share starts with the first
//! `next` request: Lambda runs init code faster than handler code below 3 GB
//! (measured by Luc van Donkersgoed, "Lambda Cold Starts and Bootstrap
//! Code", 2022), and Python's boto3 could not start in 10 s at 7 % of a core.
//! `--throttle-init` throttles init too.
//!
//! The model's limits (BENCHMARKS.md, Method): Lambda's scheduler period is
//! not published; a quota granted per 20 ms period lets a short burst run
//! at full speed and then waits, which is how a throttled cgroup behaves,
//! but Firecracker's vCPU and the host's load are not modelled.

use std::path::{Path, PathBuf};

/// The memory size that gets one full vCPU.
pub const FULL_VCPU_MB: u32 = 1769;
/// The CFS period the quota is granted in.
pub const PERIOD_US: u64 = 20_000;

const CPU_ROOT: &str = "/sys/fs/cgroup/cpu";
const MEMORY_ROOT: &str = "/sys/fs/cgroup/memory";

/// One memory size's limits, or none where cgroups cannot be used.
pub struct Share {
    pub memory_mb: u32,
    /// The cgroup folders (CPU, memory), when in force.
    groups: Option<(PathBuf, PathBuf)>,
}

impl Share {
    /// The limits for `memory_mb`, made as cgroups; without them (not root,
    /// no cgroup v1) it says why and the function runs at full CPU.
    pub fn new(memory_mb: u32) -> Self {
        match Self::create(memory_mb) {
            Ok(groups) => Self { memory_mb, groups: Some(groups) },
            Err(e) => {
                eprintln!("{memory_mb} MB: no cgroup limits ({e}); this size runs at full CPU and unlimited memory");
                Self { memory_mb, groups: None }
            }
        }
    }

    fn create(memory_mb: u32) -> Result<(PathBuf, PathBuf), String> {
        let name = format!("quire-bench-{memory_mb}mb");
        let cpu = PathBuf::from(CPU_ROOT).join(&name);
        let memory = PathBuf::from(MEMORY_ROOT).join(&name);
        for dir in [&cpu, &memory] {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let write = |path: PathBuf, value: String| std::fs::write(&path, &value).map_err(|e| format!("{} ← {value}: {e}", path.display()));
        write(cpu.join("cpu.cfs_period_us"), PERIOD_US.to_string())?;
        write(cpu.join("cpu.cfs_quota_us"), quota_us(memory_mb).to_string())?;
        write(memory.join("memory.limit_in_bytes"), (u64::from(memory_mb) << 20).to_string())?;
        Ok((cpu, memory))
    }

    /// The share of one vCPU this size gets, if enforced.
    pub fn cpu_share(&self) -> Option<f64> {
        self.groups.as_ref().map(|_| share(self.memory_mb))
    }

    /// Moves process `pid` (all its threads) under this size's memory limit.
    pub fn enter_memory(&self, pid: u32) -> Result<(), String> {
        self.groups.as_ref().map_or(Ok(()), |(_, memory)| Self::enter(memory, pid))
    }

    /// Moves process `pid` (all its threads) into this size's CPU share,
    /// with any process it started meanwhile under the memory limit (a
    /// profiler that forks, such as `perf stat`, runs the function as its child).
    pub fn enter_cpu(&self, pid: u32) -> Result<(), String> {
        let Some((cpu, memory)) = &self.groups else {
            return Ok(());
        };
        Self::enter(cpu, pid)?;
        let others = std::fs::read_to_string(memory.join("cgroup.procs")).unwrap_or_default();
        for other in others.lines().filter_map(|l| l.trim().parse::<u32>().ok()).filter(|p| *p != pid) {
            // One that has ended meanwhile cannot be moved, and needs not be.
            let _ = Self::enter(cpu, other);
        }
        Ok(())
    }

    fn enter(group: &Path, pid: u32) -> Result<(), String> {
        std::fs::write(group.join("cgroup.procs"), pid.to_string()).map_err(|e| format!("{}: {e}", group.display()))
    }

    /// Starts counting memory-limit hits afresh (before each function).
    pub fn reset(&self) {
        if let Some((_, memory)) = &self.groups {
            let _ = std::fs::write(memory.join("memory.failcnt"), "0");
        }
    }

    /// Times the memory limit was hit (the kernel's failcnt) since the last
    /// [`Share::reset`], if enforced.
    pub fn memory_limit_hits(&self) -> Option<u64> {
        let (_, memory) = self.groups.as_ref()?;
        std::fs::read_to_string(memory.join("memory.failcnt")).ok()?.trim().parse().ok()
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        if let Some((cpu, memory)) = &self.groups {
            // Empty by now (every function process was stopped); rmdir only.
            let _ = std::fs::remove_dir(cpu);
            let _ = std::fs::remove_dir(memory);
        }
    }
}

/// The share of one vCPU Lambda gives `memory_mb`.
pub fn share(memory_mb: u32) -> f64 {
    f64::from(memory_mb) / f64::from(FULL_VCPU_MB)
}

/// The CFS quota per [`PERIOD_US`] for `memory_mb` (at least 1 ms, the kernel's minimum).
pub fn quota_us(memory_mb: u32) -> u64 {
    ((PERIOD_US as f64 * share(memory_mb)).round() as u64).max(1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_is_the_memory_sizes_share_of_one_vcpu() {
        assert_eq!(quota_us(FULL_VCPU_MB), PERIOD_US);
        assert_eq!(quota_us(128), 1_447);
        assert_eq!(quota_us(1024), 11_577);
        assert!((share(128) - 0.0724).abs() < 1e-3);
    }
}
