//! Stopping a cluster for good, written once as a shell script (`teardown.sh`) because it
//! must also run when the test process is gone: the [`Watchdog`] runs it when its stdin
//! closes, `Drop` runs it at once, and `cargo xtask cluster down` runs it with what `up`
//! recorded in the cluster's directory. It kills the process group, then everything in
//! the node's cgroup (containerd's shims and the pods' processes leave the group), removes
//! the cgroups and the host's end of the node's veth pair, and deletes the directory.

use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::error::ClusterError;

const SCRIPT: &str = include_str!("teardown.sh");

/// The file in a detached cluster's directory that records what to tear down.
const RECORD: &str = "teardown.args";

/// What to stop and remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Teardown {
    /// The process group (0: none).
    pub group: u32,
    /// Removed last.
    pub dir: Option<PathBuf>,
    /// The node's cgroup root's name.
    pub cgroup: Option<String>,
    /// The host's end of the node's veth pair.
    pub veth: Option<String>,
}

impl Teardown {
    fn args(&self) -> Vec<String> {
        vec![
            self.group.to_string(),
            self.dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            self.cgroup.clone().unwrap_or_default(),
            self.veth.clone().unwrap_or_default(),
        ]
    }

    fn command(&self, prefix: &str) -> Command {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(format!("{prefix}{SCRIPT}"))
            .arg("ack-kfp-teardown")
            .args(self.args())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    /// Runs the teardown now and waits for it.
    pub fn run(&self) {
        let _ = self.command("").stdin(Stdio::null()).status();
    }

    /// Writes the record `cargo xtask cluster down` reads (`dir/teardown.args`).
    pub fn record(&self, dir: &Path) -> Result<(), ClusterError> {
        let path = dir.join(RECORD);
        std::fs::write(&path, self.args().join("\n") + "\n")
            .map_err(|e| ClusterError::io("cannot write", &path, e))
    }

    /// The record in `dir`, if a detached cluster left one.
    pub fn recorded(dir: &Path) -> Result<Option<Teardown>, ClusterError> {
        let path = dir.join(RECORD);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        let lines: Vec<&str> = text.lines().collect();
        let field = |i: usize| {
            lines
                .get(i)
                .filter(|s| !s.is_empty())
                .map(|s| (*s).to_owned())
        };
        let group = field(0).and_then(|g| g.parse().ok()).ok_or_else(|| {
            ClusterError::Invalid(format!("{}: no process group", path.display()))
        })?;
        Ok(Some(Teardown {
            group,
            dir: field(1).map(PathBuf::from),
            cgroup: field(2),
            veth: field(3),
        }))
    }
}

/// A `sh` that waits for its stdin to close (this process exiting, however it exits) and
/// then runs the teardown.
#[derive(Debug)]
pub(crate) struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    pub fn start(teardown: &Teardown) -> Result<Watchdog, ClusterError> {
        let mut child = teardown
            .command("read -r _line\n")
            .stdin(Stdio::piped())
            .spawn()
            .map_err(|e| ClusterError::io("cannot start", Path::new("sh"), e))?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let teardown = Teardown {
            group: 4242,
            dir: Some(dir.path().join("x")),
            cgroup: Some("ack-kfp-0123ab".into()),
            veth: None,
        };
        teardown.record(dir.path()).unwrap();
        assert_eq!(Teardown::recorded(dir.path()).unwrap(), Some(teardown));
        assert_eq!(Teardown::recorded(&dir.path().join("none")).unwrap(), None);
    }

    #[test]
    fn the_watchdog_removes_the_directory_when_dropped() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("cluster");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        let watchdog = Watchdog::start(&Teardown {
            group: 0,
            dir: Some(dir.clone()),
            ..Teardown::default()
        })
        .unwrap();
        assert!(dir.exists(), "nothing happens before its stdin closes");
        drop(watchdog);
        assert!(!dir.exists());
    }
}
