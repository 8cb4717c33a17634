//! The Python baseline's venv: created under the target directory with `python3 -m venv`
//! and the pinned `bench/python/requirements.txt`, reinstalled when that file changes.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The venv's interpreter and its version line.
#[derive(Debug)]
pub struct Venv {
    pub python: PathBuf,
    pub version: String,
}

/// Creates or reuses `<target>/bench-venv` for `requirements`.
pub fn ensure(target_dir: &Path, requirements: &Path) -> anyhow::Result<Venv> {
    let dir = target_dir.join("bench-venv");
    let python = dir.join("bin").join("python");
    let wanted = std::fs::read_to_string(requirements)
        .with_context(|| requirements.display().to_string())?;
    let stamp = dir.join("bench-requirements.txt");
    let current = std::fs::read_to_string(&stamp).unwrap_or_default();
    if !python.exists() || current != wanted {
        eprintln!("setting up the Python baseline in {}", dir.display());
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&dir))?;
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg("-r")
            .arg(requirements))?;
        std::fs::write(&stamp, wanted).with_context(|| stamp.display().to_string())?;
    }
    let output = Command::new(&python)
        .args(["-c", "import sys, kubernetes; print(sys.version.split()[0], 'kubernetes', kubernetes.__version__)"])
        .output()
        .context("running the venv's python")?;
    if !output.status.success() {
        bail!(
            "the venv's python cannot import kubernetes: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(Venv {
        python,
        version: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
    })
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let what = format!("{command:?}");
    let status = command.status().with_context(|| what.clone())?;
    if !status.success() {
        bail!("{what} failed with {status}");
    }
    Ok(())
}
