//! The images the node needs besides the launcher's, built here (no registry outside this
//! machine is reachable) as OCI layouts of one static binary each, with umoci (as
//! `cargo xtask image` uses it), and pushed to the cluster's [`crate::registry::Registry`]:
//! - the sandbox ("pause") image: `pause/pause.c`, compiled static with the machine's C
//!   compiler (the one Rust links with);
//! - Argo's executor image: `argoexec` from [`Tool::Argoexec`] at `/bin/argoexec` (the
//!   workflow controller starts it as `argoexec init`, resolved through `PATH`; the init
//!   container then copies it into every step's pod, so it must be static: it is, `CGO`
//!   is off).
//!
//! - a stand-in for Docker Hub's `python:3.11-slim`, which KFP's lightweight Python
//!   components name (the README's hosting chain has four): Debian bookworm's `python3`
//!   (3.11) on a minimal Debian root filesystem made with Debian's `mmdebstrap`, as the
//!   official image is Debian bookworm with Python 3.11 (built from source there). Pushed
//!   as `library/python:3.11-slim`, the node pulls it under its Docker Hub name through
//!   the registry that mirrors Docker Hub for it.
//!
//! Layouts are cached under `<target>/go/images/<name>-<hash of what made it>`.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::ClusterError;
use crate::go_build::{Tool, go_dir};
use crate::netns::run;
use crate::registry::which;

const PAUSE_C: &str = include_str!("../pause/pause.c");

/// An OCI layout holding one image, tagged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The layout's directory.
    pub dir: PathBuf,
    /// The image's tag in it (and in the registry).
    pub tag: String,
    /// The repository name it is pushed as (`ack-kfp/pause`).
    pub name: &'static str,
}

/// The sandbox image, built if needed.
pub fn pause() -> Result<Layout, ClusterError> {
    let root = go_dir().join("images");
    let _lock = lock(&root)?;
    let hash = short_hash(PAUSE_C.as_bytes());
    let layout = Layout {
        dir: root.join(format!("pause-{hash}")),
        tag: hash.clone(),
        name: "ack-kfp/pause",
    };
    if layout.dir.join("index.json").is_file() {
        return Ok(layout);
    }
    let work = root.join(format!("pause-{hash}.build"));
    recreate(&work)?;
    let source = work.join("pause.c");
    std::fs::write(&source, PAUSE_C).map_err(|e| ClusterError::io("cannot write", &source, e))?;
    let binary = work.join("pause");
    run(
        "cc",
        &[
            "-static",
            "-Os",
            "-s",
            "-o",
            &binary.display().to_string(),
            &source.display().to_string(),
        ],
    )
    .map_err(|e| {
        ClusterError::Invalid(format!(
            "building the pause binary (needs `cc` and a static libc): {e}"
        ))
    })?;
    build_layout(&work, &binary, "/pause", &layout)?;
    Ok(layout)
}

/// Argo's executor image, built if needed (and `argoexec` with it).
pub fn argoexec() -> Result<Layout, ClusterError> {
    let binary = Tool::Argoexec.ensure_built()?;
    let root = go_dir().join("images");
    let _lock = lock(&root)?;
    // The binary's cache name already carries the hash of its pins and flags.
    let file_name = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hash = short_hash(file_name.as_bytes());
    let version = Tool::Argoexec.version()?;
    let layout = Layout {
        dir: root.join(format!("argoexec-{hash}")),
        tag: format!("{version}-{hash}"),
        name: "ack-kfp/argoexec",
    };
    if layout.dir.join("index.json").is_file() {
        return Ok(layout);
    }
    let work = root.join(format!("argoexec-{hash}.build"));
    recreate(&work)?;
    build_layout(&work, &binary, "/bin/argoexec", &layout)?;
    Ok(layout)
}

/// What the Python stand-in is made with: a minimal Debian bookworm and its `python3`,
/// without documentation.
const PYTHON_ROOTFS: [&str; 5] = [
    "--variant=minbase",
    "--include=python3",
    "--dpkgopt=path-exclude=/usr/share/{doc,man,locale,info}/*",
    "bookworm",
    "-",
];

/// The stand-in for `python:3.11-slim`, built if needed (about 2 minutes: Debian's
/// packages are downloaded).
pub fn python() -> Result<Layout, ClusterError> {
    let root = go_dir().join("images");
    let _lock = lock(&root)?;
    let hash = short_hash(PYTHON_ROOTFS.join(" ").as_bytes());
    let layout = Layout {
        dir: root.join(format!("python-{hash}")),
        tag: "3.11-slim".into(),
        name: "library/python",
    };
    if layout.dir.join("index.json").is_file() {
        return Ok(layout);
    }
    which("mmdebstrap", "mmdebstrap")?;
    which("umoci", "umoci")?;
    let work = root.join(format!("python-{hash}.build"));
    recreate(&work)?;
    let tar = work.join("rootfs.tar");
    let file =
        std::fs::File::create(&tar).map_err(|e| ClusterError::io("cannot create", &tar, e))?;
    let out = std::process::Command::new("mmdebstrap")
        .arg("--quiet")
        .args(PYTHON_ROOTFS)
        .stdout(file)
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| ClusterError::io("cannot run", Path::new("mmdebstrap"), e))?;
    if !out.status.success() {
        return Err(ClusterError::Invalid(format!(
            "mmdebstrap (a Debian root filesystem with python3) failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let oci = work.join("oci");
    let image = format!("{}:{}", oci.display(), layout.tag);
    run("umoci", &["init", "--layout", &oci.display().to_string()])?;
    run("umoci", &["new", "--image", &image])?;
    run(
        "umoci",
        &[
            "raw",
            "add-layer",
            "--image",
            &image,
            &tar.display().to_string(),
        ],
    )?;
    run(
        "umoci",
        &[
            "config",
            "--image",
            &image,
            "--config.env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--config.cmd",
            "python3",
        ],
    )?;
    std::fs::rename(&oci, &layout.dir).map_err(|e| ClusterError::io("cannot rename", &oci, e))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(layout)
}

/// `umoci init/new/insert/config` into `work/oci`, then renamed into place (a layout is
/// complete or absent).
fn build_layout(work: &Path, binary: &Path, at: &str, layout: &Layout) -> Result<(), ClusterError> {
    which("umoci", "umoci")?;
    let oci = work.join("oci");
    let image = format!("{}:{}", oci.display(), layout.tag);
    run("umoci", &["init", "--layout", &oci.display().to_string()])?;
    run("umoci", &["new", "--image", &image])?;
    run(
        "umoci",
        &[
            "insert",
            "--image",
            &image,
            &binary.display().to_string(),
            at,
        ],
    )?;
    run(
        "umoci",
        &[
            "config",
            "--image",
            &image,
            "--config.entrypoint",
            at,
            "--config.env",
            "PATH=/usr/local/bin:/usr/bin:/bin",
        ],
    )?;
    if layout.dir.exists() {
        std::fs::remove_dir_all(&layout.dir)
            .map_err(|e| ClusterError::io("cannot remove", &layout.dir, e))?;
    }
    std::fs::rename(&oci, &layout.dir).map_err(|e| ClusterError::io("cannot rename", &oci, e))?;
    let _ = std::fs::remove_dir_all(work);
    Ok(())
}

/// Parallel test binaries build each layout once.
fn lock(root: &Path) -> Result<std::fs::File, ClusterError> {
    std::fs::create_dir_all(root).map_err(|e| ClusterError::io("cannot create", root, e))?;
    let path = root.join("build.lock");
    let file =
        std::fs::File::create(&path).map_err(|e| ClusterError::io("cannot create", &path, e))?;
    file.lock()
        .map_err(|e| ClusterError::io("cannot lock", &path, e))?;
    Ok(file)
}

fn recreate(dir: &Path) -> Result<(), ClusterError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| ClusterError::io("cannot remove", dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| ClusterError::io("cannot create", dir, e))
}

fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Builds every layout (`cargo xtask go-build`); the command that failed is in the error.
pub fn ensure_all() -> Result<Vec<Layout>, ClusterError> {
    Ok(vec![pause()?, argoexec()?, python()?])
}
