//! The launcher's runtime image: its reference (`component-template/image.toml`, the one
//! place the components' `image:` comes from) and `cargo xtask image`, which builds it
//! without a container engine and checks it.
//!
//! The build: the launcher as a static binary (release profile, glibc with
//! `+crt-static`: the musl target of `component-template/Dockerfile` cannot be installed
//! everywhere), checked to be static and to run; an OCI image from
//! `component-template/Containerfile.scratch` built with buildah (`bud --isolation
//! chroot`, vfs storage in a private folder under the target dir) and pushed to an OCI
//! layout; its config checked with `skopeo inspect`; the image unpacked with umoci and the
//! binary run from that root filesystem. Needs Debian's `buildah`, `skopeo` and `umoci`
//! on `PATH` (`.ci/run` installs them); `file` is used when present.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};

pub const IMAGE_TOML: &str = "component-template/image.toml";
pub const CONTAINERFILE: &str = "component-template/Containerfile.scratch";
/// The target the static binary is built for; its own folder under the target dir, so the
/// ordinary release build is left alone.
pub const STATIC_TARGET: &str = "x86_64-unknown-linux-gnu";
const BINARY: &str = "ack-kfp-launcher";
/// Where the binary sits in the image (`ENTRYPOINT`, and on `PATH` for component.yaml's
/// `command`).
const IMAGE_BINARY: &str = "/usr/local/bin/ack-kfp-launcher";
/// distroless's `nonroot` user and group, which the Dockerfile's image runs as too.
const NONROOT: u32 = 65532;
const TOOLS: [&str; 3] = ["buildah", "skopeo", "umoci"];

const IMAGE_TOML_HEADER: &str = "\
# The launcher image that every generated component.yaml names, as
# \"<repository>:<version>\". The one place it is set: `cargo xtask regenerate` writes it
# into the components, and `cargo xtask image` tags and labels the image it builds with
# this version. Bump it with `cargo xtask image --set-version X.Y.Z` (rewrites this file
# and regenerates); point `repository` at your registry before you publish. `source` is
# the image's org.opencontainers.image.source label.
";

/// `component-template/image.toml`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ImageConfig {
    /// Registry and path, without a tag: `ack-sagemaker-kfp-launcher`, or
    /// `123456789012.dkr.ecr.us-west-2.amazonaws.com/ack-sagemaker-kfp-launcher`.
    pub repository: String,
    /// The tag, and the image's `org.opencontainers.image.version` label.
    pub version: String,
    /// The image's `org.opencontainers.image.source` label: the repository's URL.
    pub source: String,
}

impl ImageConfig {
    pub fn read(root: &Path) -> anyhow::Result<ImageConfig> {
        let path = root.join(IMAGE_TOML);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let config: ImageConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        config
            .validate()
            .with_context(|| format!("in {}", path.display()))?;
        Ok(config)
    }

    /// What component.yaml's `image:` says: `repository:version`.
    pub fn reference(&self) -> String {
        format!("{}:{}", self.repository, self.version)
    }

    pub fn to_toml(&self) -> anyhow::Result<String> {
        Ok(format!("{IMAGE_TOML_HEADER}{}", toml::to_string(self)?))
    }

    fn validate(&self) -> anyhow::Result<()> {
        let repo = &self.repository;
        ensure!(
            !repo.is_empty()
                && !repo.starts_with('/')
                && !repo.ends_with('/')
                && !repo.contains("//")
                && repo.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c)
                })
                && !repo.rsplit('/').next().unwrap_or_default().contains(':'),
            "repository `{repo}`: expected an image name without tag or digest, in lower \
             case (`name`, `registry/path/name`, `registry:port/name`)"
        );
        validate_version(&self.version)
    }
}

/// A version is used as the image tag: digits first (`1.2.3`, `1.2.3-rc.1`), then what a
/// tag allows, at most 128 characters.
fn validate_version(version: &str) -> anyhow::Result<()> {
    ensure!(
        version.len() <= 128
            && version.starts_with(|c: char| c.is_ascii_digit())
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)),
        "version `{version}`: expected a version such as 1.2.3 (it becomes the image tag)"
    );
    Ok(())
}

/// Rewrites `image.toml` with `version`; the caller regenerates.
pub fn set_version(root: &Path, version: &str) -> anyhow::Result<ImageConfig> {
    validate_version(version)?;
    let mut config = ImageConfig::read(root)?;
    config.version = version.to_owned();
    write_config(root, &config)?;
    Ok(config)
}

/// `image.toml` as it will be once `reference` (`<registry>/<name>:<tag>`) is what the
/// components name: its repository and version from the reference, its source kept.
pub fn with_reference(root: &Path, reference: &str) -> anyhow::Result<ImageConfig> {
    let (repository, version) = split_reference(reference)?;
    let config = ImageConfig {
        repository,
        version,
        ..ImageConfig::read(root)?
    };
    config
        .validate()
        .with_context(|| format!("image reference `{reference}`"))?;
    Ok(config)
}

/// Rewrites `image.toml` (the caller regenerates).
pub fn write_config(root: &Path, config: &ImageConfig) -> anyhow::Result<()> {
    config.validate()?;
    crate::files::write_whole(&root.join(IMAGE_TOML), &config.to_toml()?)
}

/// `<repository>:<tag>` -> (repository, tag). A digest is refused: the tag is the
/// version the image is labelled with.
fn split_reference(reference: &str) -> anyhow::Result<(String, String)> {
    let expected = "expected `<registry>/<name>:<tag>`, such as \
                    `123456789012.dkr.ecr.us-west-2.amazonaws.com/ack-sagemaker-kfp-launcher:0.1.0`";
    ensure!(
        !reference.contains('@'),
        "image reference `{reference}`: a digest cannot be pushed to; {expected}"
    );
    let last = reference.rsplit('/').next().unwrap_or_default();
    let Some((_, tag)) = last.rsplit_once(':') else {
        bail!("image reference `{reference}`: no tag; {expected}");
    };
    let repository = &reference[..reference.len() - tag.len() - 1];
    ensure!(
        !repository.is_empty() && !tag.is_empty(),
        "image reference `{reference}`: {expected}"
    );
    Ok((repository.to_owned(), tag.to_owned()))
}

/// Pushes the image `built` holds to `reference` with `skopeo copy` (TLS verified unless
/// `plain_http`: a registry on this machine, as the tests' and `cluster up --nodes`').
pub fn push(built: &Built, reference: &str, plain_http: bool) -> anyhow::Result<()> {
    step(&format!(
        "skopeo copy {} docker://{reference}",
        built.oci_ref
    ));
    let mut command = Command::new("skopeo");
    command.arg("copy");
    if plain_http {
        command.arg("--dest-tls-verify=false");
    }
    run_inherit(
        command
            .arg(&built.oci_ref)
            .arg(format!("docker://{reference}")),
    )
}

/// What `cargo xtask image` built.
#[derive(Clone, Debug)]
pub struct Built {
    pub binary: PathBuf,
    pub binary_bytes: u64,
    /// `oci:<layout>:<tag>`.
    pub oci_ref: String,
    /// Sum of the image's layer blobs (compressed, as pushed).
    pub layer_bytes: u64,
    pub layers: usize,
    /// A summary of `skopeo inspect --config`.
    pub inspect: String,
}

/// Inputs the launcher accepts, as a KFP v1 backend passes them (the xgboost sample).
const DRY_RUN_INPUTS: [(&str, &str); 9] = [
    ("region", "us-west-2"),
    ("training_job_name", "image-check"),
    (
        "role_arn",
        "arn:aws:iam::123456789012:role/ack-sagemaker-execution-role",
    ),
    (
        "algorithm_specification",
        r#"{"trainingImage": "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1", "trainingInputMode": "File"}"#,
    ),
    (
        "input_data_config",
        r#"[{"channelName": "train", "dataSource": {"s3DataSource": {"s3DataType": "S3Prefix", "s3URI": "s3://ack-sagemaker-data/train"}}}]"#,
    ),
    (
        "output_data_config",
        r#"{"s3OutputPath": "s3://ack-sagemaker-data/output"}"#,
    ),
    (
        "resource_config",
        r#"{"instanceCount": 1, "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 5}"#,
    ),
    ("stopping_condition", r#"{"maxRuntimeInSeconds": 3600}"#),
    ("enable_network_isolation", "False"),
];

fn step(what: &str) {
    println!("\n==> image: {what}");
}

/// Builds and checks the image `image.toml` names; see the module documentation.
pub fn build(root: &Path) -> anyhow::Result<Built> {
    build_with(root, &ImageConfig::read(root)?)
}

/// Builds and checks the image, tagged and labelled as `config` says.
pub fn build_with(root: &Path, config: &ImageConfig) -> anyhow::Result<Built> {
    let config = config.clone();
    let missing: Vec<_> = TOOLS.iter().filter(|tool| !on_path(tool)).collect();
    if !missing.is_empty() {
        bail!(
            "{missing:?} not found on PATH; on Debian: \
             `apt-get install -y buildah skopeo umoci` (.ci/run installs them)"
        );
    }
    let target_dir = target_dir(root);
    let work = target_dir.join("image");

    step(&format!(
        "cargo build --release -p launcher --target {STATIC_TARGET} (+crt-static)"
    ));
    let binary = build_static(root, &target_dir)?;
    let binary_bytes = std::fs::metadata(&binary)?.len();
    check_static(&binary)?;
    if on_path("file") {
        let out = capture(Command::new("file").arg("-b").arg(&binary))?;
        println!("file: {}", String::from_utf8_lossy(&out.stdout).trim());
    }
    println!("{} is static: {binary_bytes} bytes", binary.display());
    step("run the static binary: --help and a dry run");
    check_runs(|args| {
        let mut command = Command::new(&binary);
        command.args(args);
        command
    })?;

    step(&format!("stage the build context and {CONTAINERFILE}"));
    let context = work.join("context");
    stage_context(&context, &binary)?;

    // buildah's own name for the build: the image's name alone (the repository may hold a
    // registry with a port, which `localhost/` cannot prefix); what it is pushed as is the
    // layout's tag and, with `--push`, the reference.
    let name = config
        .repository
        .rsplit('/')
        .next()
        .unwrap_or(&config.repository);
    let tag = format!("localhost/{name}:{}", config.version);
    step(&format!(
        "buildah bud --isolation chroot --storage-driver vfs -t {tag}"
    ));
    let buildah = |args: &[&str]| {
        let mut command = Command::new("buildah");
        command
            .arg("--root")
            .arg(work.join("storage"))
            .arg("--runroot")
            .arg(work.join("run"))
            .args(["--storage-driver", "vfs"])
            .args(args);
        command
    };
    let revision = git_revision(root);
    run_inherit(
        buildah(&[
            "bud",
            "--isolation",
            "chroot",
            "--format",
            "oci",
            // Reproducible: the same binary and labels give the same image digest.
            "--timestamp",
            "0",
            "--build-arg",
            &format!("VERSION={}", config.version),
            "--build-arg",
            &format!("REVISION={revision}"),
            "--build-arg",
            &format!("SOURCE={}", config.source),
            "-t",
            &tag,
            "-f",
        ])
        .arg(root.join(CONTAINERFILE))
        .arg(&context),
    )?;

    let layout = work.join("oci");
    let oci_ref = format!("oci:{}:{}", layout.display(), config.version);
    step(&format!("buildah push {tag} {oci_ref}"));
    remove_dir(&layout)?;
    run_inherit(&mut buildah(&["push", "--quiet", &tag, &oci_ref]))?;
    // The image now lives in the layout; keep the private storage from growing per build.
    capture(&mut buildah(&["rmi", "--all", "--force"]))?;

    step(&format!("skopeo inspect --config {oci_ref}"));
    let out = capture(Command::new("skopeo").args(["inspect", "--config", &oci_ref]))?;
    let image_config: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("parsing `skopeo inspect --config`")?;
    let inspect = check_config(&image_config, &config, &revision)?;
    println!("{inspect}");
    let (layers, layer_bytes) = layer_sizes(&layout, &config.version)?;
    println!("{layers} layer(s), {layer_bytes} bytes");

    step(&format!(
        "umoci unpack {oci_ref} and run the binary from it"
    ));
    let bundle = work.join("bundle");
    remove_dir(&bundle)?;
    let as_root = is_root();
    let mut unpack = Command::new("umoci");
    unpack.arg("unpack");
    if !as_root {
        unpack.arg("--rootless");
    }
    capture(
        unpack
            .arg("--image")
            .arg(format!("{}:{}", layout.display(), config.version))
            .arg(&bundle),
    )?;
    let rootfs = bundle.join("rootfs");
    check_rootfs(&rootfs)?;
    if let Some(chroot) = which("chroot").filter(|_| as_root) {
        // As a runtime would: the image's filesystem only, its user, its environment.
        println!(
            "running as {NONROOT}:{NONROOT} in a chroot of {}",
            rootfs.display()
        );
        check_runs(|args| {
            let mut command = Command::new(&chroot);
            command
                .arg(format!("--userspec={NONROOT}:{NONROOT}"))
                .arg(&rootfs)
                .arg(IMAGE_BINARY)
                .args(args)
                .env_clear()
                .env("PATH", "/usr/local/bin")
                .env("RUST_BACKTRACE", "0");
            command
        })?;
    } else {
        check_runs(|args| {
            let mut command = Command::new(rootfs.join(IMAGE_BINARY.trim_start_matches('/')));
            command.args(args);
            command
        })?;
    }

    Ok(Built {
        binary,
        binary_bytes,
        oci_ref,
        layer_bytes,
        layers,
        inspect,
    })
}

fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

fn build_static(root: &Path, target_dir: &Path) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // With `--target`, RUSTFLAGS reach only the target's crates, not build scripts and
    // proc macros (which must stay dynamic). CARGO_ENCODED_RUSTFLAGS would win over it.
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    rustflags.push_str(" -C target-feature=+crt-static");
    run_inherit(
        Command::new(cargo)
            .current_dir(root)
            .env("RUSTFLAGS", rustflags.trim())
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .args(["build", "--release", "--locked", "-p", "launcher", "--bin"])
            .arg(BINARY)
            .args(["--target", STATIC_TARGET]),
    )?;
    Ok(target_dir.join(STATIC_TARGET).join("release").join(BINARY))
}

/// A static ELF has no program interpreter (`PT_INTERP`): nothing for the kernel to load
/// it with, so it runs on `scratch`. (A static PIE still has `PT_DYNAMIC`, for itself.)
fn check_static(binary: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(binary).with_context(|| binary.display().to_string())?;
    let interp = elf_has_interpreter(&bytes).with_context(|| binary.display().to_string())?;
    ensure!(
        !interp,
        "{} is dynamically linked (it has PT_INTERP)",
        binary.display()
    );
    Ok(())
}

/// Whether a little-endian ELF64 file has a `PT_INTERP` program header.
pub fn elf_has_interpreter(bytes: &[u8]) -> anyhow::Result<bool> {
    const PT_INTERP: u32 = 3;
    let get = |at: usize, len: usize| {
        bytes
            .get(at..at + len)
            .with_context(|| format!("truncated ELF file (offset {at})"))
    };
    ensure!(get(0, 4)? == b"\x7fELF", "not an ELF file");
    ensure!(get(4, 2)? == [2, 1], "not a little-endian 64-bit ELF file");
    let u16_at = |at| get(at, 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let phoff = usize::try_from(u64::from_le_bytes(get(0x20, 8)?.try_into()?))?;
    let (phentsize, phnum) = (u16_at(0x36)?, u16_at(0x38)?);
    for i in 0..phnum {
        let p_type = get(phoff + i * phentsize, 4)?;
        if u32::from_le_bytes(p_type.try_into()?) == PT_INTERP {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `--help`, then a dry run that must print the TrainingJob.
fn check_runs(command: impl Fn(&[String]) -> Command) -> anyhow::Result<()> {
    let help = capture(&mut command(&["--help".to_owned()]))?;
    ensure!(
        String::from_utf8_lossy(&help.stdout).contains("training-job"),
        "`--help` does not list the training-job component"
    );
    println!("--help: ok");
    let mut args = vec!["training-job".to_owned()];
    for (name, value) in DRY_RUN_INPUTS {
        args.push(format!("--{name}"));
        args.push(value.to_owned());
    }
    args.push("--dry-run".to_owned());
    let out = capture(&mut command(&args))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure!(
        stdout.contains("kind: TrainingJob") && stdout.contains("trainingJobName: image-check"),
        "the dry run did not print the TrainingJob:\n{stdout}"
    );
    println!(
        "training-job --dry-run: ok ({} lines of YAML)",
        stdout.lines().count()
    );
    Ok(())
}

fn stage_context(context: &Path, binary: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    remove_dir(context)?;
    let tmp = context.join("skeleton/tmp");
    std::fs::create_dir_all(&tmp)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777))?;
    std::fs::copy(binary, context.join(BINARY))?;
    let ca = Path::new("/etc/ssl/certs/ca-certificates.crt");
    std::fs::copy(ca, context.join("ca-certificates.crt")).with_context(|| {
        format!(
            "{}: the image's CA certificates come from the builder \
             (Debian: apt-get install ca-certificates)",
            ca.display()
        )
    })?;
    std::fs::write(
        context.join("passwd"),
        format!(
            "root:x:0:0:root:/root:/sbin/nologin\n\
             nonroot:x:{NONROOT}:{NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n"
        ),
    )?;
    std::fs::write(
        context.join("group"),
        format!("root:x:0:\nnonroot:x:{NONROOT}:\n"),
    )?;
    Ok(())
}

/// Asserts what the pipeline relies on; returns a one-paragraph summary.
fn check_config(
    image: &serde_json::Value,
    want: &ImageConfig,
    revision: &str,
) -> anyhow::Result<String> {
    let config = &image["config"];
    let entrypoint: Vec<_> = config["Entrypoint"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    ensure!(
        entrypoint == [IMAGE_BINARY],
        "entrypoint is {entrypoint:?}, expected [{IMAGE_BINARY:?}]"
    );
    let user = config["User"].as_str().unwrap_or_default();
    ensure!(
        user == format!("{NONROOT}:{NONROOT}"),
        "user is `{user}`, expected {NONROOT}:{NONROOT}"
    );
    let env: Vec<_> = config["Env"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    ensure!(
        env.contains(&"RUST_BACKTRACE=0"),
        "env {env:?} lacks RUST_BACKTRACE=0"
    );
    let labels: BTreeMap<String, String> =
        serde_json::from_value(config["Labels"].clone()).unwrap_or_default();
    for (key, want) in [
        ("org.opencontainers.image.version", &*want.version),
        ("org.opencontainers.image.revision", revision),
        ("org.opencontainers.image.source", &*want.source),
    ] {
        let got = labels.get(key).map(String::as_str);
        ensure!(
            got == Some(want),
            "label {key} is {got:?}, expected {want:?}"
        );
    }
    let mut summary = format!(
        "{}/{}: entrypoint {entrypoint:?}, user {user}, env {env:?}",
        image["os"].as_str().unwrap_or("?"),
        image["architecture"].as_str().unwrap_or("?"),
    );
    for (key, value) in &labels {
        let _ = write!(summary, "\n  label {key}={value}");
    }
    Ok(summary)
}

/// The number of layers of the layout's image `tag` and the sum of their blob sizes
/// (checked against the blob files).
fn layer_sizes(layout: &Path, tag: &str) -> anyhow::Result<(usize, u64)> {
    let read_json = |path: PathBuf| -> anyhow::Result<serde_json::Value> {
        let text = std::fs::read(&path).with_context(|| path.display().to_string())?;
        serde_json::from_slice(&text).with_context(|| path.display().to_string())
    };
    let blob = |digest: &str| {
        let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", digest));
        layout.join("blobs").join(algorithm).join(hex)
    };
    let index = read_json(layout.join("index.json"))?;
    let manifest = index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .with_context(|| format!("no image tagged {tag} in {}", layout.display()))?;
    let manifest = read_json(blob(manifest["digest"].as_str().unwrap_or_default()))?;
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    let mut total = 0;
    for layer in &layers {
        let digest = layer["digest"].as_str().unwrap_or_default();
        let size = std::fs::metadata(blob(digest))
            .with_context(|| format!("layer blob {digest}"))?
            .len();
        ensure!(
            layer["size"].as_u64() == Some(size),
            "layer blob {digest} is {size} bytes, the manifest says {}",
            layer["size"]
        );
        total += size;
    }
    Ok((layers.len(), total))
}

/// The unpacked image has what a nonroot launcher step needs.
fn check_rootfs(rootfs: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let passwd = std::fs::read_to_string(rootfs.join("etc/passwd"))?;
    ensure!(
        passwd
            .lines()
            .any(|l| l.split(':').nth(2) == Some(&NONROOT.to_string())),
        "/etc/passwd has no user {NONROOT}"
    );
    let ca = std::fs::metadata(rootfs.join("etc/ssl/certs/ca-certificates.crt"))?;
    ensure!(ca.len() > 0, "/etc/ssl/certs/ca-certificates.crt is empty");
    let tmp = std::fs::metadata(rootfs.join("tmp")).context("/tmp")?;
    ensure!(
        tmp.is_dir() && tmp.permissions().mode() & 0o7777 == 0o1777,
        "/tmp is not a folder with mode 1777 (KFP outputs are written under it)"
    );
    println!("rootfs: /etc/passwd has {NONROOT}, CA certificates, /tmp 1777: ok");
    Ok(())
}

fn git_revision(root: &Path) -> String {
    Command::new("git")
        .current_dir(root)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|rev| !rev.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn on_path(tool: &str) -> bool {
    which(tool).is_some()
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

fn remove_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", dir.display()))
        }
        _ => Ok(()),
    }
}

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Runs with output shown (long steps); fails on a non-zero exit.
fn run_inherit(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .stdin(Stdio::null())
        .status()
        .with_context(|| describe(command))?;
    ensure!(status.success(), "`{}` failed: {status}", describe(command));
    Ok(())
}

/// Runs with output captured; fails with its stderr on a non-zero exit.
fn capture(command: &mut Command) -> anyhow::Result<Output> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| describe(command))?;
    ensure!(
        out.status.success(),
        "`{}` failed: {}\n{}{}",
        describe(command),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_toml_round_trips_and_names_the_component_image() {
        let config = ImageConfig {
            repository: "ack-sagemaker-kfp-launcher".to_owned(),
            version: "0.1.0".to_owned(),
            source: "https://example.com/repo".to_owned(),
        };
        let text = config.to_toml().unwrap();
        assert!(text.starts_with("# The launcher image"));
        assert_eq!(toml::from_str::<ImageConfig>(&text).unwrap(), config);
        assert_eq!(config.reference(), "ack-sagemaker-kfp-launcher:0.1.0");
    }

    #[test]
    fn versions_and_repositories_are_checked() {
        for good in ["0.1.0", "1.2.3-rc.1", "2024.01.01_1"] {
            assert!(validate_version(good).is_ok(), "{good}");
        }
        for bad in ["", "v1.0.0", "1.0 beta", "1.0/2", "1.0:2"] {
            assert!(validate_version(bad).is_err(), "{bad}");
        }
        let with = |repository: &str| ImageConfig {
            repository: repository.to_owned(),
            version: "0.1.0".to_owned(),
            source: "https://example.com/repo".to_owned(),
        };
        for good in [
            "launcher",
            "123456789012.dkr.ecr.us-west-2.amazonaws.com/ack/launcher",
            "localhost:5000/launcher",
        ] {
            assert!(with(good).validate().is_ok(), "{good}");
        }
        for bad in [
            "",
            "Launcher",
            "launcher:0.1.0",
            "launcher@sha256:00",
            "/x",
            "a//b",
        ] {
            assert!(with(bad).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn push_references_are_split_into_repository_and_tag() {
        for (reference, repository, tag) in [
            (
                "10.213.0.1:5000/ack-sagemaker-kfp-launcher:0.1.0",
                "10.213.0.1:5000/ack-sagemaker-kfp-launcher",
                "0.1.0",
            ),
            (
                "localhost:5000/team/launcher:1.2.3-rc.1",
                "localhost:5000/team/launcher",
                "1.2.3-rc.1",
            ),
            ("launcher:2", "launcher", "2"),
        ] {
            assert_eq!(
                split_reference(reference).unwrap(),
                (repository.to_owned(), tag.to_owned()),
                "{reference}"
            );
        }
        for bad in [
            "localhost:5000/launcher",
            "launcher",
            "r/x@sha256:00",
            "r/x:",
            ":1",
        ] {
            assert!(split_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_elf_check_finds_an_interpreter() {
        // This test binary is a dynamic executable; the kernel needs ld.so for it.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(elf_has_interpreter(&me).unwrap());
        assert!(elf_has_interpreter(b"#!/bin/sh\n").is_err());
        assert!(elf_has_interpreter(b"\x7fELF\x02\x01").is_err());
    }
}
