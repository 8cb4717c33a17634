//! Every command of `README.md` and `docs/` works as written, from where the page says to
//! run it: each block says how it is checked (`xtask/src/docs.rs`), and the `run` blocks
//! run here, page by page and top to bottom as a reader follows them, in a scratch copy of
//! the repository (a git repository of its own, so that `git diff` and `git restore` work).
//!
//! `cargo` in those commands is a stand-in that runs what the real one would: `cargo
//! xtask ...` the xtask binary this test was built with (pointed at the scratch copy by
//! `XTASK_PROJECT_ROOT`), `cargo run -p launcher -- ...` the launcher binary that `cargo
//! build -p launcher` gives; anything else it refuses. That `cargo xtask` itself reaches
//! xtask is checked once, with the real cargo.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use xtask::docs::{self, Block};

fn root() -> PathBuf {
    common::repo_root().canonicalize().expect("repository root")
}

fn page_blocks(page: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(root().join(page)).expect(page);
    docs::blocks(page, &text).expect("blocks")
}

#[test]
fn every_documented_block_says_how_it_is_checked() {
    let root = root();
    let mut problems = Vec::new();
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for page in docs::pages(&root).expect("pages") {
        let blocks = page_blocks(&page);
        problems.extend(docs::problems(&root, &blocks).expect("marks"));
        for block in &blocks {
            if let Some(check) = docs::CHECKS.iter().find(|c| block.has(c)) {
                *counts.entry((*check).to_owned()).or_default() += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The README's two commands, its quick starts and the rehearsal are run here, the
    // pipelines by kfp-tests, the tests and the image by CI.
    for check in ["run", "kfp", "ci", "test"] {
        assert!(
            counts.contains_key(check),
            "no block is checked by `{check}`: {counts:?}"
        );
    }
}

#[test]
fn the_marks_are_enforced() {
    let root = root();
    let problems = |markdown: &str| {
        docs::problems(&root, &docs::blocks("x.md", markdown).expect("blocks")).expect("marks")
    };
    let unmarked = problems("```sh\ncargo xtask regenerate\n```\n");
    assert!(
        unmarked[0].contains("says how it is checked"),
        "{unmarked:?}"
    );
    let unknown = problems("```sh run\nkubectl apply -f rbac.yaml\n```\n");
    assert!(
        unknown[0].contains("`kubectl` is not a command the runner can run"),
        "{unknown:?}"
    );
    let not_in_ci = problems("```sh ci\ncargo xtask bench --full\n```\n");
    assert!(
        not_in_ci[0].contains(".ci/run does not run it"),
        "{not_in_ci:?}"
    );
    assert!(problems("```sh ci\ncargo test --workspace && kfp-tests/run.sh\n```\n").is_empty());
    let runnable_example = problems("```sh example\ncargo xtask regenerate\n```\n");
    assert!(
        runnable_example[0].contains("placeholder"),
        "{runnable_example:?}"
    );
    let stray_output = problems("```sh ci\ncargo xtask image\n```\n```text output\nok\n```\n");
    assert!(
        stray_output[0].contains("right after a `run` block"),
        "{stray_output:?}"
    );
    let no_sdk = problems("```python kfp file=p.py\nimport kfp\n```\n");
    assert!(no_sdk[0].contains("names its SDK"), "{no_sdk:?}");
    let test_without_id = problems("```sh test=xtask/tests/rbac.rs\ncargo xtask rbac\n```\n");
    assert!(test_without_id[0].contains("id="), "{test_without_id:?}");
}

#[test]
fn every_relative_link_names_a_file() {
    let root = root();
    let mut broken = Vec::new();
    for page in docs::pages(&root).expect("pages") {
        let text = std::fs::read_to_string(root.join(&page)).expect("page");
        broken.extend(docs::broken_links(&root, &page, &text));
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// `cargo xtask SUB --flag` in running text names a subcommand and flags xtask has.
#[test]
fn every_xtask_command_in_the_text_exists() {
    let root = root();
    let mut wrong = Vec::new();
    let mut helps = std::collections::BTreeMap::new();
    for page in docs::pages(&root).expect("pages") {
        let text = std::fs::read_to_string(root.join(&page)).expect("page");
        for (line, words) in docs::inline_xtask_commands(&text) {
            let Some(sub) = words.first() else { continue };
            // The words before the first flag: a subcommand, a nested one (`cluster up`) or
            // positional arguments, after which clap prints the innermost command's help.
            let path: Vec<&str> = (words.iter())
                .take_while(|w| !w.starts_with('-'))
                .map(String::as_str)
                .collect();
            let help: &String = helps.entry(path.join(" ")).or_insert_with(|| {
                let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
                    .args(&path)
                    .arg("--help")
                    .output()
                    .expect("xtask runs");
                if out.status.success() {
                    String::from_utf8_lossy(&out.stdout).into_owned()
                } else {
                    String::new()
                }
            });
            if help.is_empty() {
                wrong.push(format!(
                    "{page}:{line}: `cargo xtask {sub}`: no such subcommand"
                ));
                continue;
            }
            for flag in words.iter().filter(|w| w.starts_with("--")) {
                let flag = flag.split('=').next().unwrap_or(flag);
                if !help.contains(&format!("{flag} ")) && !help.contains(&format!("{flag}\n")) {
                    wrong.push(format!(
                        "{page}:{line}: `cargo xtask {}` has no {flag}",
                        path.join(" ")
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The stand-in for `cargo xtask` below runs the xtask binary; this shows the alias does
/// too, with the real cargo, from the repository root.
#[test]
fn cargo_xtask_is_the_xtask_binary() {
    let output = real_cargo()
        .args(["xtask", "--help"])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ours = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--help")
        .output()
        .expect("xtask runs");
    assert_eq!(stdout, String::from_utf8_lossy(&ours.stdout));
}

#[test]
fn every_run_block_runs_as_written() {
    let root = root();
    let work = tempfile::tempdir().expect("tempdir");
    let shims = shims(work.path());
    let mut report = String::new();
    let mut failures = Vec::new();
    for page in docs::pages(&root).expect("pages") {
        let blocks = page_blocks(&page);
        if !blocks.iter().any(|b| b.has("run")) {
            continue;
        }
        let checkout = work.path().join(page.replace('/', "_"));
        scratch_repository(&root, &checkout);
        let home = checkout.with_extension("home");
        std::fs::create_dir_all(&home).expect("home");
        for (index, block) in blocks.iter().enumerate() {
            if !block.has("run") {
                continue;
            }
            let started = std::time::Instant::now();
            let (ok, output) = run_block(block, &checkout, &home, &shims);
            let _ = writeln!(
                report,
                "{:>6.2} s  {}  {}",
                started.elapsed().as_secs_f64(),
                block.at(),
                block.command_lines().join(" ; ")
            );
            if !ok {
                failures.push(format!("{} failed:\n{output}", block.at()));
                continue;
            }
            if let Some(expected) = blocks.get(index + 1).filter(|b| b.has("output"))
                && let Err(missing) = matches_output(&expected.text, &output)
            {
                failures.push(format!(
                    "{}: the output shown at {} is not what it printed: no line `{missing}` \
                     (in order) in:\n{output}",
                    block.at(),
                    expected.at()
                ));
            }
        }
        // A block that started a cluster and failed before stopping it leaves nothing behind.
        if checkout.join("target/cluster/pgid").exists() {
            let _ = Command::new(env!("CARGO_BIN_EXE_xtask"))
                .args(["cluster", "down"])
                .env("XTASK_PROJECT_ROOT", &checkout)
                .status();
        }
    }
    println!("{report}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs a block's text with `sh -e` from its folder of the scratch copy: whether it ended
/// with the status the block names, and stdout and stderr together, as a terminal shows
/// them.
fn run_block(block: &Block, checkout: &Path, home: &Path, shims: &Path) -> (bool, String) {
    let path = format!(
        "{}:{}",
        shims.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("/bin/sh");
    command
        .arg("-ec")
        .arg(format!("exec 2>&1\n{}", block.text))
        .current_dir(checkout.join(block.cwd()))
        .env("PATH", path)
        .env("HOME", home)
        .env("XTASK_PROJECT_ROOT", checkout)
        .env("DOCS_XTASK", env!("CARGO_BIN_EXE_xtask"))
        .env("RUST_BACKTRACE", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Docs Runner")
        .env("GIT_AUTHOR_EMAIL", "docs@example.invalid")
        .env("GIT_COMMITTER_NAME", "Docs Runner")
        .env("GIT_COMMITTER_EMAIL", "docs@example.invalid")
        .env_remove(xtask::fetch::BASE_URL_ENV)
        .stdin(Stdio::null());
    if block.text.contains("-p launcher") {
        command.env("DOCS_LAUNCHER", launcher());
    }
    if block.has("mirror") {
        // This machine has no internet: the releases come from the fixture mirror, laid out
        // like the release host.
        command.env(
            xtask::fetch::BASE_URL_ENV,
            checkout.join("fixtures/ack-mirror"),
        );
    }
    let output = command.output().expect("sh runs");
    (
        output.status.code() == Some(block.exit_status()),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Each line of `expected` is a line of `output`, in order; `...` in a line matches any
/// text, and a line that is only `...` any number of lines.
fn matches_output(expected: &str, output: &str) -> Result<(), String> {
    let mut lines = output.lines();
    for want in expected.lines().map(str::trim_end) {
        if want == "..." || want.is_empty() {
            continue;
        }
        if !lines.by_ref().any(|line| glob(want, line.trim_end())) {
            return Err(want.to_owned());
        }
    }
    Ok(())
}

fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split("...");
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (index, part) in parts.iter().enumerate() {
        if index == parts.len() - 1 {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

#[test]
fn output_patterns() {
    assert!(glob("a ... b", "a x y b"));
    assert!(glob("exactly", "exactly"));
    assert!(!glob("exactly", "exactly not"));
    assert!(glob("...tail", "any tail"));
    assert!(matches_output("one\n...\nthree", "one\ntwo\nthree").is_ok());
    assert_eq!(
        matches_output("three\none", "one\ntwo\nthree"),
        Err("one".into())
    );
}

/// A copy of the repository's files (tracked, and new ones not ignored) under `checkout`,
/// committed as a repository of its own.
fn scratch_repository(root: &Path, checkout: &Path) {
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root)
        .output()
        .expect("git ls-files");
    assert!(listed.status.success(), "git ls-files failed");
    for file in listed.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let file = String::from_utf8_lossy(file).into_owned();
        let from = root.join(&file);
        if !from.is_file() {
            continue; // Deleted in the working tree.
        }
        let to = checkout.join(&file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&from, &to).expect("copy");
    }
    for args in [
        &["-c", "init.defaultBranch=main", "init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "checkout",
        ],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(checkout)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Docs Runner")
            .env("GIT_AUTHOR_EMAIL", "docs@example.invalid")
            .env("GIT_COMMITTER_NAME", "Docs Runner")
            .env("GIT_COMMITTER_EMAIL", "docs@example.invalid")
            .stdout(Stdio::null())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?} in the scratch copy");
    }
}

/// A folder with the `cargo` stand-in.
fn shims(dir: &Path) -> PathBuf {
    let shims = dir.join("shims");
    std::fs::create_dir_all(&shims).expect("mkdir");
    let cargo = shims.join("cargo");
    std::fs::write(
        &cargo,
        r#"#!/bin/sh
# The documented-commands runner's cargo (xtask/tests/docs.rs): runs what cargo would.
case "$1" in
xtask) shift; exec "$DOCS_XTASK" "$@" ;;
run)
    shift
    while [ "$1" = -q ] || [ "$1" = --quiet ]; do shift; done
    if [ "$1" = -p ] && [ "$2" = launcher ] && [ "$3" = -- ] && [ -n "$DOCS_LAUNCHER" ]; then
        shift 3
        exec "$DOCS_LAUNCHER" "$@"
    fi ;;
esac
echo "docs runner: \`cargo $*\` is not a command it can run; mark the block \`ci\` if .ci/run runs it" >&2
exit 127
"#,
    )
    .expect("write the stand-in");
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    shims
}

/// The cargo that runs this test, without the variables it set for this test: build
/// scripts (ring's, for one) rerun when `CARGO_MANIFEST_DIR` or `CARGO_PKG_*` change, which
/// would rebuild half the dependencies on every run.
fn real_cargo() -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_for_tests = [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_BIN_",
            "CARGO_CRATE_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
                "OUT_DIR",
            ]
            .contains(&name.as_ref());
        if set_for_tests {
            cargo.env_remove(name.as_ref());
        }
    }
    cargo
}

/// The launcher binary, built once with the real cargo as `cargo run -p launcher` builds it.
fn launcher() -> &'static Path {
    static LAUNCHER: OnceLock<PathBuf> = OnceLock::new();
    LAUNCHER.get_or_init(|| {
        let output = real_cargo()
            .args([
                "build",
                "-p",
                "launcher",
                "--locked",
                "--message-format=json-render-diagnostics",
            ])
            .current_dir(root())
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo build -p launcher");
        assert!(output.status.success(), "cargo build -p launcher failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["target"]["name"] == "ack-kfp-launcher")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the launcher's executable")
    })
}
