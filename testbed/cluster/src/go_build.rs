//! Builds the Go parts of the stack (etcd, the Kubernetes binaries, the ACK SageMaker
//! controller, Argo Workflows) from the wrapper modules in `testbed/go/` with the
//! machine's Go toolchain, caching binaries, GOMODCACHE and GOCACHE under
//! `<target>/go/`. A binary is named after its version and a hash of its module's
//! `go.mod` and `go.sum`, so it is rebuilt only when a pin changes. Parallel test
//! binaries (and their threads) build each tool once: the build holds a file lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sha2::{Digest, Sha256};

/// Building a Go tool failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `go` is not installed: the real-cluster tier cannot run without it.
    #[error(
        "the Go toolchain (`go`, 1.26 or later) is not on PATH ({0}); the real-cluster tests \
         build etcd and kube-apiserver from Go modules (see docs/testing.md)"
    )]
    NoGo(std::io::Error),
    /// Reading the wrapper module or writing the cache failed.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A wrapper module's `replace` directory is missing: the ACK controller's and Argo's
    /// sources are read from `../shared/ack-src` and `../shared/argo-src` beside the
    /// project (see their READMEs).
    #[error(
        "{tool}: the source its wrapper module replaces is missing: {path} (`../shared` \
         beside the project root: ack-src for the ACK controller, argo-src for Argo)"
    )]
    MissingSource {
        /// The tool.
        tool: &'static str,
        /// The missing directory.
        path: PathBuf,
    },
    /// `go build` failed; the tail of its output.
    #[error("go build of {tool} failed (full log: {log}):\n{tail}")]
    Failed {
        /// The tool.
        tool: &'static str,
        /// Where the whole output is.
        log: PathBuf,
        /// The last lines.
        tail: String,
    },
}

/// A Go main package built from a wrapper module in `testbed/go/<module>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// `go.etcd.io/etcd/server/v3` (the `etcd` binary).
    Etcd,
    /// `k8s.io/kubernetes/cmd/kube-apiserver`.
    KubeApiserver,
    /// `k8s.io/kubernetes/cmd/kubelet` (wrapper `kube-node`, the same release).
    Kubelet,
    /// `k8s.io/kubernetes/cmd/kube-proxy` (wrapper `kube-node`).
    KubeProxy,
    /// `k8s.io/kubernetes/cmd/kube-scheduler` (wrapper `kube-node`).
    KubeScheduler,
    /// `k8s.io/kubernetes/cmd/kube-controller-manager` (wrapper `kube-node`).
    KubeControllerManager,
    /// Argo Workflows' `workflow-controller` (wrapper `argo`, source in `../shared/argo-src`).
    WorkflowController,
    /// Argo Workflows' executor, `argoexec` (wrapper `argo`).
    Argoexec,
    /// The ACK SageMaker controller (`github.com/aws-controllers-k8s/sagemaker-controller
    /// /cmd/controller` v1.9.1, on ACK runtime commit 95428e7), from the source in
    /// `../shared/ack-src` (the Go module proxy refuses both modules).
    SagemakerController,
}

impl Tool {
    /// Every tool, in build order (the small one first, so a broken toolchain shows fast).
    pub const ALL: [Tool; 9] = [
        Tool::Etcd,
        Tool::KubeApiserver,
        Tool::SagemakerController,
        Tool::Kubelet,
        Tool::KubeProxy,
        Tool::KubeScheduler,
        Tool::KubeControllerManager,
        Tool::WorkflowController,
        Tool::Argoexec,
    ];

    /// What a cluster with a node ([`crate::Stack`]) runs besides the control plane and
    /// the ACK controller.
    pub const NODE: [Tool; 6] = [
        Tool::Kubelet,
        Tool::KubeProxy,
        Tool::KubeScheduler,
        Tool::KubeControllerManager,
        Tool::WorkflowController,
        Tool::Argoexec,
    ];

    /// The binary's name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Etcd => "etcd",
            Tool::KubeApiserver => "kube-apiserver",
            Tool::Kubelet => "kubelet",
            Tool::KubeProxy => "kube-proxy",
            Tool::KubeScheduler => "kube-scheduler",
            Tool::KubeControllerManager => "kube-controller-manager",
            Tool::WorkflowController => "workflow-controller",
            Tool::Argoexec => "argoexec",
            Tool::SagemakerController => "sagemaker-controller",
        }
    }

    /// The wrapper module's folder name under `testbed/go/`.
    fn module(self) -> &'static str {
        match self {
            Tool::Etcd => "etcd",
            Tool::KubeApiserver => "kube-apiserver",
            Tool::Kubelet | Tool::KubeProxy | Tool::KubeScheduler | Tool::KubeControllerManager => {
                "kube-node"
            }
            Tool::WorkflowController | Tool::Argoexec => "argo",
            Tool::SagemakerController => "sagemaker-controller",
        }
    }

    fn package(self) -> &'static str {
        match self {
            Tool::Etcd => "go.etcd.io/etcd/server/v3",
            Tool::KubeApiserver => "k8s.io/kubernetes/cmd/kube-apiserver",
            Tool::Kubelet => "k8s.io/kubernetes/cmd/kubelet",
            Tool::KubeProxy => "k8s.io/kubernetes/cmd/kube-proxy",
            Tool::KubeScheduler => "k8s.io/kubernetes/cmd/kube-scheduler",
            Tool::KubeControllerManager => "k8s.io/kubernetes/cmd/kube-controller-manager",
            Tool::WorkflowController => {
                "github.com/argoproj/argo-workflows/v3/cmd/workflow-controller"
            }
            Tool::Argoexec => "github.com/argoproj/argo-workflows/v3/cmd/argoexec",
            Tool::SagemakerController => {
                "github.com/aws-controllers-k8s/sagemaker-controller/cmd/controller"
            }
        }
    }

    fn is_kubernetes(self) -> bool {
        self.module_required() == "k8s.io/kubernetes"
    }

    /// `go build` flags: no paths or symbols in the binary (a smaller, faster link), no
    /// cgo (no C toolchain needed; argoexec must be static anyway: it is copied into
    /// every step's container), and the version the binary reports (`hack/` and Argo's
    /// Makefile set it from git; without it Kubernetes' `/version` says `v0.0.0-master`,
    /// and the kubelet registers a node of that version; the controller's release Makefile
    /// sets `pkg/version`: without it the controller logs an empty version and tags what it
    /// creates with it).
    fn build_flags(self) -> Result<Vec<String>, BuildError> {
        let mut flags = vec!["-trimpath".to_string()];
        if self.module() == "argo" {
            // `../shared/argo-src` holds one upstream symlink as a plain file (see the
            // overlay's note in the wrapper's go.mod); the overlay restores its content.
            flags.push(format!("-overlay={OVERLAY}"));
        }
        let mut ldflags = "-s -w".to_string();
        if self.module() == "argo" {
            ldflags.push_str(&format!(
                " -X github.com/argoproj/argo-workflows/v3.version={}",
                self.version()?
            ));
        }
        if self.is_kubernetes() {
            let version = self.version()?;
            let mut parts = version.trim_start_matches('v').split('.');
            let (major, minor) = (parts.next().unwrap_or("0"), parts.next().unwrap_or("0"));
            for (var, value) in [
                ("gitVersion", version.as_str()),
                ("gitMajor", major),
                ("gitMinor", minor),
                ("gitTreeState", "clean"),
            ] {
                ldflags.push_str(&format!(" -X k8s.io/component-base/version.{var}={value}"));
            }
        }
        if self == Tool::SagemakerController {
            let version = self.version()?;
            for (var, value) in [
                ("GitVersion", version.as_str()),
                ("GitCommit", CONTROLLER_COMMIT),
            ] {
                ldflags.push_str(&format!(
                    " -X github.com/aws-controllers-k8s/sagemaker-controller/pkg/version.{var}={value}"
                ));
            }
        }
        flags.push(format!("-ldflags={ldflags}"));
        Ok(flags)
    }

    /// The wrapper module's files a build depends on (hashed into the binary's name).
    fn inputs(self) -> &'static [&'static str] {
        if self.module() == "argo" {
            &["go.mod", "go.sum", OVERLAY]
        } else {
            &["go.mod", "go.sum"]
        }
    }

    fn module_required(self) -> &'static str {
        match self.module() {
            "etcd" => "go.etcd.io/etcd/server/v3",
            "argo" => "github.com/argoproj/argo-workflows/v3",
            "sagemaker-controller" => "github.com/aws-controllers-k8s/sagemaker-controller",
            _ => "k8s.io/kubernetes",
        }
    }

    /// The directories the wrapper's `replace` directives name (relative to it).
    pub(crate) fn replaced_dirs(self) -> Result<Vec<PathBuf>, BuildError> {
        let dir = self.module_dir();
        let go_mod = read(&dir.join("go.mod"))?;
        Ok(go_mod
            .lines()
            .filter_map(|line| line.split(" => ").nth(1))
            .map(str::trim)
            .filter(|target| target.starts_with('.'))
            .map(|target| dir.join(target))
            .collect())
    }

    /// The wrapper module's directory (`testbed/go/<module>`).
    pub fn module_dir(self) -> PathBuf {
        testbed_dir().join("go").join(self.module())
    }

    /// The pinned version: the wrapper's `require` of the module that holds the package.
    pub fn version(self) -> Result<String, BuildError> {
        let go_mod = read(&self.module_dir().join("go.mod"))?;
        Ok(pinned_version(&go_mod, self.module_required()).unwrap_or_else(|| "unknown".into()))
    }

    /// The cached binary for the current pins (it may not be built yet).
    pub fn cached_path(self) -> Result<PathBuf, BuildError> {
        let dir = self.module_dir();
        let mut hash = Sha256::new();
        for f in self.inputs() {
            hash.update(read(&dir.join(f))?.as_bytes());
        }
        hash.update(self.build_flags()?.join(" ").as_bytes());
        let digest = hash.finalize();
        let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        Ok(go_dir()
            .join("bin")
            .join(format!("{}-{}-{short}", self.name(), self.version()?)))
    }

    /// The binary, built first if the pins changed since the last build.
    pub fn ensure_built(self) -> Result<PathBuf, BuildError> {
        let out = self.cached_path()?;
        if out.is_file() {
            return Ok(out);
        }
        if let Some(path) = self.replaced_dirs()?.into_iter().find(|d| !d.is_dir()) {
            return Err(BuildError::MissingSource {
                tool: self.name(),
                path,
            });
        }
        let root = go_dir();
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).map_err(io("cannot create", &bin))?;
        let lock_path = root.join("build.lock");
        let lock = File::create(&lock_path).map_err(io("cannot create", &lock_path))?;
        lock.lock().map_err(io("cannot lock", &lock_path))?;
        if out.is_file() {
            return Ok(out); // Another process built it while this one waited.
        }
        eprintln!(
            "cluster: building {} {} with Go (cold: minutes; cached in {})",
            self.name(),
            self.version()?,
            root.display()
        );
        let started = Instant::now();
        let partial = PathBuf::from(format!("{}.partial", out.display()));
        let log = PathBuf::from(format!("{}.log", out.display()));
        let log_file = File::create(&log).map_err(io("cannot create", &log))?;
        let log_err = log_file.try_clone().map_err(io("cannot open", &log))?;
        let status = Command::new("go")
            .arg("build")
            .args(self.build_flags()?)
            .arg("-o")
            .arg(&partial)
            .arg(self.package())
            .current_dir(self.module_dir())
            .env("GOMODCACHE", root.join("mod"))
            .env("GOCACHE", root.join("cache"))
            // The committed go.sum is the pin: never rewrite it during a build.
            .env("GOFLAGS", "-mod=readonly")
            .env("CGO_ENABLED", "0")
            .stdout(log_file)
            .stderr(log_err)
            .status()
            .map_err(BuildError::NoGo)?;
        if !status.success() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            return Err(BuildError::Failed {
                tool: self.name(),
                log,
                tail: lines[lines.len().saturating_sub(30)..].join("\n"),
            });
        }
        std::fs::rename(&partial, &out).map_err(io("cannot rename", &partial))?;
        let _ = std::fs::remove_file(&log);
        // Binaries of earlier pins are never used again.
        let prefix = format!("{}-v", self.name());
        for old in std::fs::read_dir(&bin).into_iter().flatten().flatten() {
            let path = old.path();
            if path != out && old.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(path);
            }
        }
        eprintln!(
            "cluster: built {} in {:.0} s",
            self.name(),
            started.elapsed().as_secs_f64()
        );
        Ok(out)
    }
}

/// `go build -overlay` file of the Argo wrapper, relative to it.
const OVERLAY: &str = "overlay.json";

/// The commit of the controller's v1.9.1 tag (`../shared/ack-src/README.md`).
const CONTROLLER_COMMIT: &str = "dc497070";

/// Where the Go caches and binaries live: `$TESTBED_GO_DIR`, else `<target>/go` in the
/// workspace's target directory (or `CARGO_TARGET_DIR`).
pub fn go_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TESTBED_GO_DIR") {
        return PathBuf::from(dir);
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let testbed = testbed_dir();
            testbed.parent().unwrap_or(&testbed).join("target")
        })
        .join("go")
}

/// `testbed/`, this crate's parent folder.
fn testbed_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn pinned_version(go_mod: &str, module: &str) -> Option<String> {
    go_mod.lines().find_map(|line| {
        let mut words = line.trim().trim_start_matches("require").split_whitespace();
        (words.next() == Some(module))
            .then(|| words.next().map(str::to_string))
            .flatten()
    })
}

fn read(path: &Path) -> Result<String, BuildError> {
    std::fs::read_to_string(path).map_err(io("cannot read", path))
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io { what, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pinned_versions_are_read_from_the_wrapper_modules() {
        assert_eq!(Tool::KubeApiserver.version().unwrap(), "v1.35.4");
        assert!(Tool::Etcd.version().unwrap().starts_with("v3.6."));
        assert_eq!(Tool::SagemakerController.version().unwrap(), "v1.9.1");
        let one_line = "module x\nrequire k8s.io/kubernetes v1.35.4\n";
        assert_eq!(
            pinned_version(one_line, "k8s.io/kubernetes").as_deref(),
            Some("v1.35.4")
        );
        assert_eq!(pinned_version(one_line, "k8s.io/api"), None);
    }

    #[test]
    fn the_node_parts_are_pinned_as_kube_apiserver_is() {
        let pins = |tool: Tool| {
            let go_mod = std::fs::read_to_string(tool.module_dir().join("go.mod")).unwrap();
            let replaces: Vec<String> = go_mod
                .lines()
                .filter(|l| l.contains(" => "))
                .map(|l| l.trim().to_owned())
                .collect();
            (tool.version().unwrap(), replaces)
        };
        let apiserver = pins(Tool::KubeApiserver);
        for tool in [
            Tool::Kubelet,
            Tool::KubeProxy,
            Tool::KubeScheduler,
            Tool::KubeControllerManager,
        ] {
            assert_eq!(pins(tool), apiserver, "{}", tool.name());
        }
        assert_eq!(Tool::WorkflowController.version().unwrap(), "v3.7.18");
        assert_eq!(
            Tool::Argoexec.module_dir(),
            Tool::WorkflowController.module_dir()
        );
    }

    #[test]
    fn every_staging_module_is_replaced_by_its_published_release() {
        let go_mod = std::fs::read_to_string(Tool::KubeApiserver.module_dir().join("go.mod"))
            .expect("go.mod");
        let replaced: Vec<&str> = go_mod
            .lines()
            .filter(|l| l.contains(" => "))
            .map(str::trim)
            .collect();
        assert!(replaced.len() >= 30, "{replaced:?}");
        for line in replaced {
            let parts: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(parts.len(), 4, "{line}");
            assert_eq!(parts[0], parts[2], "{line}: replaced by the same module");
            assert_eq!(parts[3], "v0.35.4", "{line}");
        }
    }

    #[test]
    fn the_controller_is_built_from_the_offline_source_of_its_release_and_runtime() {
        let dirs = Tool::SagemakerController.replaced_dirs().unwrap();
        let names: Vec<String> = dirs
            .iter()
            .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["runtime-95428e7", "sagemaker-controller-v1.9.1"]);
        for dir in dirs {
            assert!(
                dir.parent().unwrap().ends_with("ack-src"),
                "{}",
                dir.display()
            );
        }
        let flags = Tool::SagemakerController.build_flags().unwrap().join(" ");
        assert!(flags.contains("pkg/version.GitVersion=v1.9.1"), "{flags}");
    }
}
