//! `cargo xtask <task>`: see `cargo xtask --help`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use xtask::regenerate::{self, Change};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "Development tasks of the ACK KFP component generator"
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Generate `generated/` from the CRDs pinned in `crds/lock.toml`; with
    /// `--controller-version`, first pin that release's CRDs and report the drift.
    Regenerate {
        /// Write nothing; fail with a diff if `generated/` is not what the CRDs give.
        #[arg(long, conflicts_with = "controller_version")]
        check: bool,
        /// Fetch and pin the CRDs of this controller release (a tag such as v1.9.1).
        #[arg(long, value_name = "TAG")]
        controller_version: Option<String>,
        /// The controller whose CRDs to pin at that release (e.g. sagemaker-controller);
        /// needed when the lock pins CRDs of several controllers.
        #[arg(long, value_name = "NAME", requires = "controller_version")]
        controller: Option<String>,
        /// Where the release files are, instead of $ACK_RELEASES_URL or
        /// https://raw.githubusercontent.com: a mirror's base URL or a folder on this machine
        /// (files are at <URL>/aws-controllers-k8s/<controller>/<tag>/helm/crds/<file>).
        #[arg(long, value_name = "URL", requires = "controller_version")]
        mirror: Option<String>,
        /// Also write the drift report as Markdown, for a pull request description.
        #[arg(long, value_name = "FILE", requires = "controller_version")]
        report: Option<PathBuf>,
        /// Exit with code 3 when the upgrade breaks pipelines that use the components
        /// (the files are still written, for review).
        #[arg(long, requires = "controller_version")]
        fail_on_breaking: bool,
    },
    /// Pin one more CRD from a controller release: fetch it, add it to `crds/lock.toml`,
    /// write a template stub and regenerate.
    Add {
        /// The controller's repository name, e.g. s3-controller.
        controller: String,
        /// The kind, e.g. Bucket.
        kind: String,
        /// The release tag to pin it at (the controller's, if the lock pins it already).
        #[arg(long, value_name = "TAG")]
        release: String,
        /// The CRD's file name in the release's helm/crds/, where the kind's plural is not
        /// the plain English one.
        #[arg(long, value_name = "NAME")]
        file: Option<String>,
        /// Where the release files are, as for `regenerate`.
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
    },
    /// Print the Role and RoleBinding the pipeline steps of one namespace need, for
    /// `kubectl apply -f -`: the manifest `regenerate` writes to
    /// `component-template/rbac.yaml`, for your namespace and service account.
    Rbac {
        /// The namespace the pipelines run in (a Kubeflow profile's namespace).
        #[arg(long, value_name = "NAME")]
        namespace: String,
        /// The service account the steps run as (Kubeflow multi-user: default-editor;
        /// standalone KFP: pipeline-runner).
        #[arg(long, value_name = "NAME")]
        service_account: String,
    },
    /// Measure the launcher and the generator and write `BENCHMARKS.md` (runs the `bench`
    /// crate on release builds).
    Bench {
        /// Two runs of each measurement on debug builds, for CI; writes
        /// `target/BENCHMARKS.quick.md` and never fails on a missed target.
        #[arg(long)]
        quick: bool,
    },
    /// Build the launcher as a static binary and an OCI image from it under
    /// `target/image/oci` (buildah, chroot isolation, vfs), and check both (skopeo, umoci).
    /// The tag and version label come from `component-template/image.toml`.
    Image {
        /// Only set the image version in `component-template/image.toml` and regenerate
        /// the components that name it; build nothing.
        #[arg(long, value_name = "X.Y.Z", conflicts_with = "push")]
        set_version: Option<String>,
        /// Build the image as tagged here, push it to this reference with skopeo, then
        /// make it what every component names (`image.toml`, regenerated).
        #[arg(long, value_name = "REGISTRY/NAME:TAG")]
        push: Option<String>,
        /// Push over plain HTTP, without TLS (a registry on this machine, such as
        /// `cargo xtask cluster up --nodes`' one).
        #[arg(long, requires = "push")]
        plain_http: bool,
    },
    /// Build the Go parts of the test stack from the wrapper modules in `testbed/go/`
    /// (etcd, the Kubernetes binaries, the ACK SageMaker controller from
    /// `../shared/ack-src`, Argo Workflows from `../shared/argo-src`) and the node's images
    /// (pause, Argo's executor, the Python stand-in), cached under `target/go/` by pin;
    /// the tests build them on first use too.
    GoBuild,
    /// Start (`up`) or stop (`down`) etcd, kube-apiserver, our SageMaker API and the ACK
    /// SageMaker controller (with the release's CRDs), detached, as the real-cluster tests
    /// run them (with `--nodes`, also the node, registry, S3 server and Argo Workflows that
    /// compiled pipelines run on); `up` prints the admin kubeconfig's path.
    Cluster {
        #[command(subcommand)]
        action: ClusterAction,
    },
    /// Start the stack, run the TrainingJob component's step as KFP 1.8 runs it with the
    /// README's sample inputs, show its log, the resource as `kubectl get` shows it and
    /// the outputs, then stop everything.
    Demo {
        /// Run this launcher binary instead of building one in `target/demo/`.
        #[arg(long, value_name = "PATH")]
        launcher: Option<PathBuf>,
        /// Instead: the README's pipeline from training to a monitored endpoint, compiled
        /// by kfp 1.8 and run as an Argo Workflow on a node (pods, the launcher image from
        /// a registry), showing its steps and SageMaker's calls as they happen.
        #[arg(long)]
        pipeline: bool,
    },
    /// Serve our SageMaker API until killed (what `cluster up` runs as a process).
    #[command(hide = true)]
    SagemakerApi {
        /// Where to write the API's URL once it listens.
        #[arg(long)]
        addr_file: PathBuf,
    },
    /// Generate every CRD `*.yaml` of a folder in this one process, writing nothing (for
    /// timing the generator as a whole process; `bench` runs it).
    #[command(hide = true)]
    GenerateAll { dir: PathBuf },
}

#[derive(Debug, Subcommand)]
enum ClusterAction {
    /// Start the stack in `target/cluster/` (building it first if needed).
    Up {
        /// Also a node that runs pods (kubelet, kube-proxy, containerd in the node's own
        /// namespaces), the scheduler and controller manager, a registry, an S3 server
        /// and Argo Workflows: what compiled KFP v1 pipelines run on.
        #[arg(long)]
        nodes: bool,
    },
    /// Stop the stack `up` started and remove `target/cluster/`.
    Down,
}

/// Exit code of an upgrade that breaks pipelines, under `--fail-on-breaking`.
const EXIT_BREAKING: u8 = 3;

/// Generating is allocation-bound (quote's tokens, syn's buffers, prettyplease's
/// output, on one thread per core): mimalloc makes `generate-all` of the 26 v1.9.1 CRDs
/// about a quarter faster than glibc's allocator, in wall and CPU time (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let root = project_root();
    match cli.task {
        Task::Regenerate {
            controller_version: Some(release),
            controller,
            mirror,
            report,
            fail_on_breaking,
            ..
        } => {
            let base = base_url(mirror);
            let upgrade = xtask::upgrade::upgrade(&root, controller.as_deref(), &release, &base)?;
            let mut markdown = String::new();
            for drift in &upgrade.drifts {
                println!("{}", codegen::drift::render_text(drift));
                markdown.push_str(&codegen::drift::render_markdown(drift));
            }
            print_notes(&upgrade.notes);
            if !upgrade.notes.is_empty() {
                markdown.push_str("\n**Template keys this release cannot honour**\n\n");
                for note in &upgrade.notes {
                    markdown.push_str(&format!("- {note}\n"));
                }
            }
            for path in &upgrade.crds_changed {
                println!("{:>8} {path}", "pinned");
            }
            print_changes(&upgrade.generated_changed);
            if let Some(report) = report {
                std::fs::write(&report, markdown)?;
                println!("wrote the drift report to {}", report.display());
            }
            if fail_on_breaking && upgrade.drifts.iter().any(|d| d.is_breaking()) {
                eprintln!("error: the upgrade to {release} breaks pipelines (see BREAKING above)");
                return Ok(ExitCode::from(EXIT_BREAKING));
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::Regenerate { check, .. } => {
            let plan = regenerate::plan(&root)?;
            for line in &plan.resources {
                println!("{line}");
            }
            print_notes(&plan.notes);
            if check {
                let changes = regenerate::changes(&root, &plan)?;
                if changes.is_empty() {
                    println!("generated/ is up to date");
                    return Ok(ExitCode::SUCCESS);
                }
                print!("{}", regenerate::stale_diff(&root, &plan, &changes));
                eprintln!(
                    "error: {} generated file(s) are stale; run `cargo xtask regenerate`",
                    changes.len()
                );
                return Ok(ExitCode::FAILURE);
            }
            print_changes(&regenerate::apply(&root, &plan)?);
            Ok(ExitCode::SUCCESS)
        }
        Task::Add {
            controller,
            kind,
            release,
            file,
            mirror,
        } => {
            let added = xtask::add::add(
                &root,
                &controller,
                &kind,
                &release,
                &base_url(mirror),
                file.as_deref(),
            )?;
            println!(
                "{:>8} {} ({} {}) as module {}",
                "pinned",
                added.crd.repo_path(),
                added.crd.controller,
                added.crd.release,
                added.module
            );
            if let Some(template) = &added.template {
                println!(
                    "{:>8} {template} (a stub: name and describe the component)",
                    "added"
                );
            }
            print_changes(&added.generated_changed);
            Ok(ExitCode::SUCCESS)
        }
        Task::Rbac {
            namespace,
            service_account,
        } => {
            let subject = xtask::rbac::Subject::new(&namespace, &service_account)?;
            let plan = regenerate::plan(&root)?;
            print!("{}", xtask::rbac::manifest(&plan.grants, &subject));
            Ok(ExitCode::SUCCESS)
        }
        Task::Bench { quick } => bench(&root, quick),
        Task::Image {
            set_version: Some(version),
            ..
        } => {
            let image = xtask::image::set_version(&root, &version)?;
            println!("{}: {}", xtask::image::IMAGE_TOML, image.reference());
            print_changes(&regenerate::apply(&root, &regenerate::plan(&root)?)?);
            Ok(ExitCode::SUCCESS)
        }
        Task::Image {
            push: Some(reference),
            plain_http,
            ..
        } => {
            // Checked before anything is built; written only once the push succeeded.
            let config = xtask::image::with_reference(&root, &reference)?;
            let built = xtask::image::build_with(&root, &config)?;
            xtask::image::push(&built, &reference, plain_http)?;
            xtask::image::write_config(&root, &config)?;
            println!("{}: {}", xtask::image::IMAGE_TOML, config.reference());
            print_changes(&regenerate::apply(&root, &regenerate::plan(&root)?)?);
            Ok(ExitCode::SUCCESS)
        }
        Task::Image { .. } => {
            let built = xtask::image::build(&root)?;
            println!(
                "\nimage: ok: static binary {} bytes ({:.1} MiB), image {} bytes ({:.1} MiB) \
                 in {} layer(s) at {}",
                built.binary_bytes,
                mib(built.binary_bytes),
                built.layer_bytes,
                mib(built.layer_bytes),
                built.layers,
                built.oci_ref,
            );
            Ok(ExitCode::SUCCESS)
        }
        Task::GenerateAll { dir } => generate_all(&dir),
        Task::GoBuild => {
            for tool in cluster::Tool::ALL {
                let started = Instant::now();
                let path = tool.ensure_built()?;
                println!(
                    "{} {}: {} ({:.1} s)",
                    tool.name(),
                    tool.version()?,
                    path.display(),
                    started.elapsed().as_secs_f64()
                );
            }
            let started = Instant::now();
            for image in cluster::images::ensure_all()? {
                println!(
                    "image {}:{}: {}",
                    image.name,
                    image.tag,
                    image.dir.display()
                );
            }
            println!("images ({:.1} s)", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Task::Cluster { action } => cluster(&root.join("target/cluster"), &action),
        Task::Demo { launcher, pipeline } => {
            if pipeline {
                xtask::demo_pipeline::run(&root)?;
            } else {
                xtask::demo::run(&root, launcher.as_deref())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::SagemakerApi { addr_file } => {
            xtask::stack::serve_sagemaker(&addr_file)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `cargo xtask cluster up|down`.
fn cluster(dir: &Path, action: &ClusterAction) -> anyhow::Result<ExitCode> {
    match action {
        ClusterAction::Up { nodes } => {
            let started = Instant::now();
            let up = xtask::stack::up(dir, *nodes)?;
            println!(
                "cluster up in {:.1} s: etcd, kube-apiserver, the ACK SageMaker controller {} \
                 (runtime {}) and our SageMaker API at {} (process group {}; logs in {})",
                started.elapsed().as_secs_f64(),
                cluster::CONTROLLER_VERSION,
                cluster::RUNTIME_VERSION,
                up.sagemaker_url,
                up.group,
                up.dir.display()
            );
            if let Some(node) = &up.node {
                println!(
                    "with a node, Argo Workflows {}, a registry at {} (plain HTTP; the node's \
                     mirror of Docker Hub too) and an S3 artifact store at http://{}",
                    cluster::Tool::WorkflowController.version()?,
                    node.registry,
                    node.s3
                );
                println!(
                    "push the launcher: cargo xtask image --push {}/ack-sagemaker-kfp-launcher:<version> --plain-http",
                    node.registry
                );
            }
            println!("export KUBECONFIG={}", up.kubeconfig.display());
        }
        ClusterAction::Down => {
            if xtask::stack::down(dir)? {
                println!("cluster down");
            } else {
                println!("no cluster was up in {}", dir.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds what the benchmark measures (release builds, or debug ones in quick mode), then
/// runs it.
fn bench(root: &Path, quick: bool) -> anyhow::Result<ExitCode> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let profile: &[&str] = if quick { &[] } else { &["--release"] };
    let cargo_status = |args: &[&str]| {
        Command::new(&cargo)
            .current_dir(root)
            .args(args)
            .status()
            .with_context(|| format!("cargo {}", args.join(" ")))
    };
    let build = cargo_status(&[&["build"], profile, &["-p", "launcher", "-p", "xtask"]].concat())?;
    // Its own invocation: `-p bench` alone resolves the same features as the `cargo run`
    // below, which then builds nothing; this also builds the `measure-rss` wrapper.
    let wrapper = cargo_status(&[&["build"], profile, &["-p", "bench", "--bins"]].concat())?;
    if !build.success() || !wrapper.success() {
        anyhow::bail!("building the binaries the benchmark measures failed");
    }
    // The full run also measures the static launcher and its OCI image, when buildah,
    // skopeo and umoci are there to build them.
    let mut image_env = Vec::new();
    if !quick {
        match xtask::image::build(root) {
            Ok(built) => {
                image_env.push((
                    "ACK_BENCH_STATIC_BINARY",
                    built.binary.display().to_string(),
                ));
                image_env.push(("ACK_BENCH_IMAGE_BYTES", built.layer_bytes.to_string()));
            }
            Err(error) => eprintln!("not measuring the static binary and image: {error:#}"),
        }
    }
    let quick_flag: &[&str] = if quick { &["--quick"] } else { &[] };
    let run = Command::new(&cargo)
        .current_dir(root)
        .args([&["run"], profile, &["-p", "bench", "--"], quick_flag].concat())
        .envs(image_env)
        .status()
        .context("cargo run -p bench")?;
    Ok(if run.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Runs the generator on every `*.yaml` of `dir` as `regenerate` does (model, then Rust
/// module and component.yaml with a generic template) and prints counts and the time.
fn generate_all(dir: &Path) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let mut paths = std::fs::read_dir(dir)
        .with_context(|| dir.display().to_string())?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| dir.display().to_string())?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    paths.sort();
    let generated = xtask::parallel::map(&paths, |path| {
        let name = path.display().to_string();
        let yaml = std::fs::read_to_string(path).with_context(|| name.clone())?;
        let model = codegen::model(&yaml).with_context(|| name.clone())?;
        let source = codegen::Source {
            file: name.clone(),
            controller: "-".into(),
            release: "-".into(),
            sha256: "-".into(),
        };
        let template = codegen::ComponentTemplate::generic(&model.kind);
        codegen::generate_from(model, &template, &source).with_context(|| name)
    });
    let (mut types, mut inputs, mut outputs, mut bytes) = (0, 0, 0, 0);
    for generated in generated {
        let generated = generated?;
        types += generated.model.types.len();
        inputs += generated.component.inputs.len();
        outputs += generated.component.outputs.len();
        bytes += generated.rust.len() + generated.component_yaml.len();
    }
    println!(
        "generated {} CRDs in {:.1} ms: {types} types, {inputs} inputs, {outputs} outputs, \
         {bytes} bytes (nothing written)",
        paths.len(),
        start.elapsed().as_secs_f64() * 1e3,
    );
    Ok(ExitCode::SUCCESS)
}

/// `--mirror`, else $ACK_RELEASES_URL, else the raw-file host.
fn base_url(mirror: Option<String>) -> String {
    mirror
        .or_else(|| std::env::var(xtask::fetch::BASE_URL_ENV).ok())
        .unwrap_or_else(|| xtask::fetch::DEFAULT_BASE_URL.to_owned())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Template keys the release cannot honour: on stdout beside the drift, where a reviewer
/// reads.
fn print_notes(notes: &[String]) {
    for note in notes {
        println!("note: {note}");
    }
}

fn print_changes(changes: &[(String, Change)]) {
    if changes.is_empty() {
        println!("generated/ is up to date");
    }
    for (path, change) in changes {
        let what = match change {
            Change::Added => "added",
            Change::Modified => "changed",
            Change::Removed => "removed",
        };
        println!("{what:>8} {path}");
    }
}

/// The repository root: xtask lives one level below it. Tests point it at a scratch copy
/// with `XTASK_PROJECT_ROOT`.
fn project_root() -> PathBuf {
    if let Some(root) = std::env::var_os("XTASK_PROJECT_ROOT") {
        return PathBuf::from(root);
    }
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
