//! Child processes of a cluster: one process group per cluster (the watchdog in
//! [`crate::teardown`] kills the group when the test process goes away without running
//! `Drop`: a cluster in a `static`, a test binary killed by a signal or aborted by a
//! panic in a panic).

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::ClusterError;

/// A server process started into the cluster's process group, its output in a log file.
/// Dropping it kills it, unless it was [`Server::detach`]ed (`cargo xtask cluster up`).
#[derive(Debug)]
pub(crate) struct Server {
    pub name: &'static str,
    pub child: Child,
    pub log: PathBuf,
    detached: bool,
}

impl Server {
    /// Starts `bin args` with stdout and stderr appended to `log`. `group` is the process
    /// group to join (`None`: start a new group led by this process).
    pub fn spawn(
        name: &'static str,
        bin: &Path,
        args: &[String],
        log: PathBuf,
        group: Option<u32>,
    ) -> Result<Server, ClusterError> {
        let mut command = Command::new(bin);
        command.args(args);
        Self::spawn_command(name, command, log, group)
    }

    /// [`Server::spawn`] for a prepared command (environment, a wrapper such as the node's
    /// `nsenter`).
    pub fn spawn_command(
        name: &'static str,
        mut command: Command,
        log: PathBuf,
        group: Option<u32>,
    ) -> Result<Server, ClusterError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| ClusterError::io("cannot open", &log, e))?;
        let err = file
            .try_clone()
            .map_err(|e| ClusterError::io("cannot open", &log, e))?;
        let program = PathBuf::from(command.get_program());
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err)
            .process_group(group.map_or(0, |g| i32::try_from(g).unwrap_or(0)))
            .spawn()
            .map_err(|e| ClusterError::io("cannot start", &program, e))?;
        Ok(Server {
            name,
            child,
            log,
            detached: false,
        })
    }

    /// Fails with the log's tail if the process has exited.
    pub fn check_running(&mut self) -> Result<(), ClusterError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(ClusterError::Exited {
                name: self.name,
                status: status.to_string(),
                log_tail: log_tail(&self.log),
            }),
            Err(e) => Err(ClusterError::io("cannot wait for", &self.log, e)),
        }
    }

    /// SIGKILL and reap: the servers keep nothing in memory that a test needs (etcd writes
    /// through; kube-apiserver is stateless), and a graceful stop costs seconds.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Leaves the process running when this handle is dropped.
    pub fn detach(&mut self) {
        self.detached = true;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.detached {
            self.kill();
        }
    }
}

/// The last lines of a log file (for errors).
pub(crate) fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    let _ = std::fs::File::open(log).and_then(|mut f| f.read_to_string(&mut text));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// A port that was free a moment ago (the kernel's choice for port 0). As in envtest, a
/// process of another test could take it before the server binds it; the start then
/// fails with the server's log.
pub(crate) fn free_port() -> Result<u16, ClusterError> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| ClusterError::io("cannot bind", Path::new("127.0.0.1:0"), e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| ClusterError::io("cannot bind", Path::new("127.0.0.1:0"), e))
}

/// Waits until something accepts TCP connections on `127.0.0.1:port` while `server` runs.
pub(crate) fn wait_for_port(
    server: &mut Server,
    port: u16,
    timeout: Duration,
) -> Result<(), ClusterError> {
    wait_for_addr(server, SocketAddr::from(([127, 0, 0, 1], port)), timeout)
}

/// Waits until something accepts TCP connections on `addr` while `server` runs.
pub(crate) fn wait_for_addr(
    server: &mut Server,
    addr: SocketAddr,
    timeout: Duration,
) -> Result<(), ClusterError> {
    let deadline = Instant::now() + timeout;
    loop {
        server.check_running()?;
        if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(ClusterError::NotReady {
                name: server.name,
                log_tail: log_tail(&server.log),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
