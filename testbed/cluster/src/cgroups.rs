//! A node's own cgroup root, `/<name>` in every mounted hierarchy: the kubelet's
//! `cgroupRoot`, so its pods (`/<name>/kubepods/...`) never share cgroups with another
//! cluster's or the host's, and the one subtree [`crate::teardown`] sweeps and removes.
//! The node's own processes (containerd and with it every shim it starts, which leave the
//! process group with `setsid`) join `/<name>/node` in the tracking hierarchy only (pids):
//! moving them in the others would take them out of cgroups this machine's own tools use.

use std::path::{Path, PathBuf};

use crate::error::ClusterError;

/// Where cgroup hierarchies are mounted.
const CGROUP_FS: &str = "/sys/fs/cgroup";

/// The cgroup root of one node: created in every hierarchy, removed by the teardown.
#[derive(Debug)]
pub struct CgroupRoot {
    name: String,
    /// `<hierarchy>/<name>` for every mounted hierarchy.
    dirs: Vec<PathBuf>,
    /// `<tracking hierarchy>/<name>/node/cgroup.procs`.
    node_procs: PathBuf,
}

impl CgroupRoot {
    /// Creates `/<name>` (and `/<name>/node` in the tracking hierarchy). The kubelet
    /// checks that its `cgroupRoot` exists in every hierarchy before it starts.
    pub fn create(name: &str) -> Result<CgroupRoot, ClusterError> {
        let hierarchies = hierarchies()?;
        let tracking = hierarchies
            .iter()
            .find(|h| h.ends_with("pids"))
            .or_else(|| hierarchies.iter().find(|h| h.ends_with("unified")))
            .or(hierarchies.first())
            .cloned()
            .ok_or_else(|| {
                ClusterError::Invalid(format!("no cgroup hierarchy is mounted under {CGROUP_FS}"))
            })?;
        let mut root = CgroupRoot {
            name: name.to_owned(),
            dirs: Vec::new(),
            node_procs: tracking.join(name).join("node").join("cgroup.procs"),
        };
        for hierarchy in &hierarchies {
            let dir = hierarchy.join(name);
            std::fs::create_dir(&dir).map_err(|e| ClusterError::io("cannot create", &dir, e))?;
            root.dirs.push(dir.clone());
            // A new cpuset cgroup has no CPUs and no memory nodes: nothing could join it.
            if hierarchy.ends_with("cpuset") {
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    let parent = hierarchy.join(file);
                    let value = std::fs::read_to_string(&parent)
                        .map_err(|e| ClusterError::io("cannot read", &parent, e))?;
                    let path = dir.join(file);
                    std::fs::write(&path, value.trim())
                        .map_err(|e| ClusterError::io("cannot write", &path, e))?;
                }
            }
        }
        let node = tracking.join(name).join("node");
        std::fs::create_dir(&node).map_err(|e| ClusterError::io("cannot create", &node, e))?;
        Ok(root)
    }

    /// The name, `/`-rooted, as the kubelet's `cgroupRoot` takes it.
    pub fn kubelet_root(&self) -> String {
        format!("/{}", self.name)
    }

    /// The bare name (for the teardown).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `cgroup.procs` a node process writes its pid to before it execs.
    pub fn node_procs(&self) -> &Path {
        &self.node_procs
    }

    /// Every `<hierarchy>/<name>` this root made.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }
}

/// The mount points of the cgroup hierarchies (v1 controllers, named ones and a unified
/// v2 mount), from `/proc/self/mountinfo`.
fn hierarchies() -> Result<Vec<PathBuf>, ClusterError> {
    let path = Path::new("/proc/self/mountinfo");
    let text =
        std::fs::read_to_string(path).map_err(|e| ClusterError::io("cannot read", path, e))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fs_type = after.split_whitespace().next()?;
            let mount_point = before.split_whitespace().nth(4)?;
            (matches!(fs_type, "cgroup" | "cgroup2") && mount_point.starts_with(CGROUP_FS))
                .then(|| PathBuf::from(mount_point))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hierarchies_are_read_from_mountinfo() {
        // Every Linux machine that runs these tests mounts at least one.
        let found = hierarchies().unwrap();
        assert!(!found.is_empty());
        assert!(found.iter().all(|h| h.starts_with(CGROUP_FS)), "{found:?}");
    }
}
