//! Peak resident set size of one child process, from the OS: each measurement runs in a
//! fresh `measure-rss` wrapper process (src/bin/measure-rss.rs; see there why).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// What the wrapper reports.
#[derive(Clone, Copy, Debug)]
pub struct RssRun {
    /// The child's peak RSS, KiB.
    pub child_kib: i64,
    /// The wrapper's own peak RSS (`VmHWM`), KiB: a floor under `child_kib`.
    pub wrapper_kib: i64,
    pub exit: Option<i32>,
}

/// Runs `command` under a fresh `wrapper` process, with the command's environment, and
/// returns what the wrapper measured.
pub fn measure(wrapper_exe: &Path, command: &Command) -> anyhow::Result<RssRun> {
    let mut wrapper = Command::new(wrapper_exe);
    wrapper.arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => wrapper.env(key, v),
            None => wrapper.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapper.current_dir(dir);
    }
    let output = wrapper
        .output()
        .context("running the measure-rss wrapper")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = stdout.lines().last().unwrap_or_default();
    let field = |name: &str| {
        report
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse::<i64>().ok())
            .with_context(|| {
                format!(
                    "the measure-rss wrapper printed no `{name}`; stderr:\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })
    };
    let run = RssRun {
        child_kib: field("child_max_rss_kib")?,
        wrapper_kib: field("wrapper_hwm_kib")?,
        exit: i32::try_from(field("exit")?).ok(),
    };
    if run.exit != Some(0) {
        bail!(
            "{} exited with {:?} under the RSS wrapper; its output:\n{}",
            command.get_program().to_string_lossy(),
            run.exit,
            tail(&String::from_utf8_lossy(&output.stderr))
        );
    }
    Ok(run)
}

/// The last lines of a process's output, for error messages.
pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
