//! The node's own network and mount namespaces, so that several clusters run side by
//! side and leave nothing behind: a holder process (`unshare --net --mount`) keeps them
//! alive; containerd, the kubelet and kube-proxy are started inside them with `nsenter`.
//!
//! - Network: the pods' bridge, their addresses (10.88.0.0/16), the service addresses
//!   (10.0.0.0/24) and kube-proxy's iptables rules exist only in the node's namespace, so
//!   every cluster uses the same ranges without meeting another's. A veth pair joins the
//!   node to the host: `<host>/30` on the host's end, `<host+1>/30` (the node's address)
//!   on the node's, the default route through the host. What pods must reach (the API
//!   server, the registry, the artifact store) listens on the host's end of that pair,
//!   nowhere else; pods' traffic leaves the node masqueraded as the node's address.
//! - Mounts: private propagation, a tmpfs over `/run` (containerd's shim sockets, runc's
//!   and iptables' locks) and one over `/var/lib/cni` (the CNI library's cache, a path
//!   containerd 1.6 does not let us choose: the one thing on the host, an empty folder
//!   created if missing), so every mount the kubelet and containerd make (volumes,
//!   overlay root filesystems, the pods' network namespaces) exists only in there and goes
//!   with the namespace: nothing stays mounted on the host, whatever ends the cluster.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cgroups::CgroupRoot;
use crate::error::ClusterError;
use crate::process::{Server, log_tail};

/// The /16 the host's ends of the nodes' veth pairs are numbered from (one /30 each).
const NODE_LINKS: [u8; 2] = [10, 213];

/// Set up inside the new namespaces, before anything else runs there.
const HOLDER_SCRIPT: &str = r#"set -e
mount -t tmpfs -o mode=0755,size=64m ack-kfp-node-run /run
mkdir -p /run/lock /var/lib/cni
mount -t tmpfs -o mode=0755,size=16m ack-kfp-node-cni /var/lib/cni
ip link set lo up
echo 1 > /proc/sys/net/ipv4/ip_forward
echo ready
exec sleep infinity
"#;

/// Names of one node's host-level objects, drawn at random before anything starts (the
/// watchdog needs them from the beginning).
#[derive(Debug, Clone)]
pub struct NodeNames {
    /// The cgroup root's name (`ack-kfp-<hex>`).
    pub cgroup: String,
    /// The host's end of the veth pair (`kfp<hex>h`, at most 15 bytes).
    pub veth: String,
}

impl NodeNames {
    pub fn draw() -> Result<NodeNames, ClusterError> {
        let id = crate::random::random_hex(3)?;
        Ok(NodeNames {
            cgroup: format!("ack-kfp-{id}"),
            veth: format!("kfp{id}h"),
        })
    }
}

/// A node's namespaces, its veth pair and its cgroup root. Dropping it kills the holder;
/// the namespaces go when the last process in them does (the teardown sees to that).
#[derive(Debug)]
pub struct NodeNamespace {
    holder: Server,
    pid: u32,
    host_address: Ipv4Addr,
    node_address: Ipv4Addr,
    cgroup: CgroupRoot,
}

impl NodeNamespace {
    /// Starts the holder in `group`, creates the cgroup root and the veth pair, and numbers
    /// both ends with a /30 no other interface on this machine uses.
    pub fn create(
        dir: &Path,
        names: &NodeNames,
        group: Option<u32>,
    ) -> Result<NodeNamespace, ClusterError> {
        let mut command = Command::new("unshare");
        command
            .args(["--net", "--mount", "--propagation", "private", "--"])
            .args(["sh", "-c", HOLDER_SCRIPT]);
        let mut holder =
            Server::spawn_command("node namespace", command, dir.join("node-ns.log"), group)?;
        let pid = holder.child.id();
        wait_for_line(&mut holder, "ready", Duration::from_secs(10))?;
        let cgroup = CgroupRoot::create(&names.cgroup)?;
        let (host_address, node_address) = link(pid, &names.veth)?;
        Ok(NodeNamespace {
            holder,
            pid,
            host_address,
            node_address,
            cgroup,
        })
    }

    /// The holder's pid (the process group's leader when the namespace starts first).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The host's end of the veth pair: where the API server, the registry and the
    /// artifact store listen for the node and its pods.
    pub fn host_address(&self) -> Ipv4Addr {
        self.host_address
    }

    /// The node's address (the kubelet's `--node-ip`).
    pub fn node_address(&self) -> Ipv4Addr {
        self.node_address
    }

    /// The node's cgroup root.
    pub fn cgroup(&self) -> &CgroupRoot {
        &self.cgroup
    }

    /// `bin` run inside the node's namespaces, in the node's cgroup: a `sh` that joins the
    /// cgroup and execs `nsenter`, which execs `bin` (one pid throughout, so killing the
    /// child kills the program).
    pub fn command(&self, bin: &Path) -> Command {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"echo $$ > "$1" && target=$2 && shift 2 && exec nsenter --target "$target" --net --mount -- "$@""#)
            .arg("ack-kfp-node")
            .arg(self.cgroup.node_procs())
            .arg(self.pid.to_string())
            .arg(bin);
        command
    }

    /// `bin` run in the node's network namespace only, in the host's mounts and cgroups:
    /// a program that stands for one running in a pod on the node (Argo's controller).
    pub fn net_command(&self, bin: &Path) -> Command {
        let mut command = Command::new("nsenter");
        command
            .arg("--target")
            .arg(self.pid.to_string())
            .args(["--net", "--"])
            .arg(bin);
        command
    }

    /// Leaves the holder running when this handle is dropped (`cargo xtask cluster up`).
    pub fn detach(&mut self) {
        self.holder.detach();
    }
}

/// Waits until the server printed `line` to its log.
fn wait_for_line(server: &mut Server, line: &str, timeout: Duration) -> Result<(), ClusterError> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        server.check_running()?;
        let text = std::fs::read_to_string(&server.log).unwrap_or_default();
        if text.lines().any(|l| l == line) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(ClusterError::NotReady {
                name: server.name,
                log_tail: log_tail(&server.log),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Creates the veth pair `veth` (host) / `eth0` (node, in the holder's namespace) and
/// numbers it; returns the host's and the node's addresses. A file lock keeps two
/// clusters starting at once from drawing the same /30.
fn link(pid: u32, veth: &str) -> Result<(Ipv4Addr, Ipv4Addr), ClusterError> {
    let lock_path = std::env::temp_dir().join("ack-kfp-node-links.lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| ClusterError::io("cannot create", &lock_path, e))?;
    lock.lock()
        .map_err(|e| ClusterError::io("cannot lock", &lock_path, e))?;
    let used = ip(&["-4", "-o", "addr", "show"])?;
    let prefix = format!("{}.{}.", NODE_LINKS[0], NODE_LINKS[1]);
    let taken: Vec<u16> = used
        .split_whitespace()
        .filter_map(|word| word.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (third, fourth) = rest.split_once('.')?;
            let fourth = fourth.split('/').next()?;
            Some(third.parse::<u16>().ok()? * 64 + fourth.parse::<u16>().ok()? / 4)
        })
        .collect();
    let start = u16::from_str_radix(&crate::random::random_hex(2)?, 16).unwrap_or(0) % 16384;
    let block = (0..16384u16)
        .map(|i| (start + i) % 16384)
        .find(|b| !taken.contains(b))
        .ok_or_else(|| ClusterError::Invalid(format!("no free /30 left in {prefix}0.0/16")))?;
    let octets = |offset: u16| {
        let n = block * 4 + offset;
        Ipv4Addr::new(
            NODE_LINKS[0],
            NODE_LINKS[1],
            (n / 256) as u8,
            (n % 256) as u8,
        )
    };
    let (host, node) = (octets(1), octets(2));
    let pid = pid.to_string();
    let peer = format!("{}n", veth.trim_end_matches('h'));
    ip(&[
        "link", "add", veth, "type", "veth", "peer", "name", &peer, "netns", &pid,
    ])?;
    ip(&["addr", "add", &format!("{host}/30"), "dev", veth])?;
    ip(&["link", "set", veth, "up"])?;
    let inside = |args: &[&str]| {
        let mut all = vec!["--target", &pid, "--net", "--", "ip"];
        all.extend_from_slice(args);
        run("nsenter", &all)
    };
    inside(&["link", "set", &peer, "name", "eth0"])?;
    inside(&["addr", "add", &format!("{node}/30"), "dev", "eth0"])?;
    inside(&["link", "set", "eth0", "up"])?;
    inside(&["route", "add", "default", "via", &host.to_string()])?;
    drop(lock);
    Ok((host, node))
}

fn ip(args: &[&str]) -> Result<String, ClusterError> {
    run("ip", args)
}

/// Runs a command to completion; its stdout, or an error with its stderr.
pub(crate) fn run(program: &str, args: &[&str]) -> Result<String, ClusterError> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ClusterError::io("cannot run", &PathBuf::from(program), e))?;
    if !out.status.success() {
        return Err(ClusterError::Invalid(format!(
            "`{program} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
