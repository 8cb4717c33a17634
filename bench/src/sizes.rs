//! Section 4: the launcher binary's size and linkage, and what cannot be built here.

use std::path::Path;
use std::process::Command;

use anyhow::Context;

use crate::ctx::Ctx;
use crate::report::{Report, Row, Section, Target, Unit};
use crate::stats::Stat;

const MUSL: &str = "x86_64-unknown-linux-musl";

pub fn run(ctx: &Ctx, report: &mut Report) -> anyhow::Result<()> {
    eprintln!("5/5 sizes");
    let path = &ctx.programs.launcher;
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    let elf = Elf::read(&bytes);
    #[allow(clippy::cast_precision_loss)] // binary sizes are far below 2^52.
    let mb = bytes.len() as f64 / 1e6;
    let linkage = match &elf.interpreter {
        Some(interp) => format!("dynamically linked (interpreter {interp})"),
        None => "static (no ELF interpreter)".to_owned(),
    };
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let musl_installed = Path::new(&sysroot).join("lib/rustlib").join(MUSL).exists();
    let container_tools: Vec<&str> = ["docker", "podman", "buildah"]
        .into_iter()
        .filter(|tool| on_path(tool))
        .collect();
    let mut notes = vec![format!(
        "`{}`: {} bytes, {linkage}, {}.",
        path.strip_prefix(&ctx.root).unwrap_or(path).display(),
        bytes.len(),
        if elf.has_symtab {
            "not stripped"
        } else {
            "stripped"
        }
    )];
    // Without `cargo xtask image`'s static glibc build (below), say what a static one needs.
    if std::env::var_os("ACK_BENCH_STATIC_BINARY").is_none() {
        notes.push(format!(
            "A static build needs the `{MUSL}` target, which {}, or `cargo xtask image` \
             (static glibc); this run has neither, so the static size is not measured.",
            if musl_installed {
                "is installed (build it with `cargo build --release --target x86_64-unknown-linux-musl -p launcher`)"
            } else {
                "is not installed and cannot be installed on this machine"
            }
        ));
    }
    let daemon = container_tools.iter().any(|tool| {
        Command::new(tool)
            .arg("info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    notes.push(format!(
        "The Docker build of component-template/Dockerfile (musl, distroless) is not run here: {}.",
        match (container_tools.is_empty(), daemon) {
            (true, _) => "there is no docker, podman or buildah".to_owned(),
            (false, false) => format!(
                "{} is installed but no container daemon runs",
                container_tools.join(", ")
            ),
            (false, true) => format!(
                "{} works, but the base images' registry is not reachable from this machine",
                container_tools.join(", ")
            ),
        }
    ));
    if ctx.quick {
        notes.push(
            "Quick mode measures the debug binary, which says nothing about release size.".into(),
        );
    }
    // `cargo xtask bench` builds these with `cargo xtask image` when it can.
    let static_binary = std::env::var_os("ACK_BENCH_STATIC_BINARY")
        .map(std::path::PathBuf::from)
        .and_then(|p| Some((std::fs::read(&p).ok()?, p)));
    let image_bytes: Option<u64> = std::env::var("ACK_BENCH_IMAGE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut extra_rows = Vec::new();
    let static_target =
        match &static_binary {
            Some((static_bytes, static_path)) if Elf::read(static_bytes).interpreter.is_none() => {
                #[allow(clippy::cast_precision_loss)] // binary sizes are far below 2^52.
                let static_mb = static_bytes.len() as f64 / 1e6;
                notes.push(format!(
                "`{}` (from `cargo xtask image`): {} bytes, static glibc (`+crt-static`, no ELF \
                 interpreter): the binary the OCI image carries. The musl build of \
                 component-template/Dockerfile is not measured.",
                static_path.strip_prefix(&ctx.root).unwrap_or(static_path).display(),
                static_bytes.len()
            ));
                extra_rows.push(Row::new(
                    "ack-kfp-launcher, static release build",
                    Unit::MB,
                    Stat::single(static_mb),
                    None,
                ));
                (format!("{static_mb:.2} MB, static glibc"), static_mb <= 8.0)
            }
            _ => (
                format!(
                    "{mb:.2} MB, but {}",
                    if elf.interpreter.is_some() {
                        "glibc-dynamic: no static build measured"
                    } else {
                        "static"
                    }
                ),
                mb <= 8.0 && elf.interpreter.is_none(),
            ),
        };
    if let Some(bytes) = image_bytes {
        #[allow(clippy::cast_precision_loss)] // image sizes are far below 2^52.
        let image_mb = bytes as f64 / 1e6;
        extra_rows.push(Row::new(
            "OCI image (scratch + static launcher), compressed layers",
            Unit::MB,
            Stat::single(image_mb),
            None,
        ));
        notes.push(
            "The OCI image is built by `cargo xtask image` with buildah from \
             component-template/Containerfile.scratch; its size is the sum of its compressed \
             layer blobs."
                .into(),
        );
    }
    report.targets.push(Target {
        what: "launcher: static binary".into(),
        target: "<= 8 MB".into(),
        measured: static_target.0,
        met: static_target.1,
    });
    report.sections.push(Section {
        title: "5. Sizes".into(),
        ours: "size".into(),
        baseline: String::new(),
        rows: std::iter::once(Row::new(
            &format!(
                "ack-kfp-launcher, {} build",
                if ctx.quick { "debug" } else { "release" }
            ),
            Unit::MB,
            Stat::single(mb),
            None,
        ))
        .chain(extra_rows)
        .collect(),
        notes,
    });
    Ok(())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// What the bench reads from a 64-bit little-endian ELF file.
#[derive(Debug, Default)]
struct Elf {
    /// `PT_INTERP`: the dynamic loader, absent in a static executable.
    interpreter: Option<String>,
    /// A `SHT_SYMTAB` section: the binary is not stripped.
    has_symtab: bool,
}

impl Elf {
    fn read(b: &[u8]) -> Elf {
        let u16_at = |o: usize| {
            b.get(o..o + 2)
                .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
        };
        let u32_at = |o: usize| {
            b.get(o..o + 4)
                .and_then(|s| s.try_into().ok())
                .map(u32::from_le_bytes)
        };
        let u64_at = |o: usize| {
            b.get(o..o + 8)
                .and_then(|s| s.try_into().ok())
                .map(u64::from_le_bytes)
                .and_then(|v| usize::try_from(v).ok())
        };
        let mut elf = Elf::default();
        // 64-bit (class 2), little-endian (data 1).
        if b.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
            return elf;
        }
        if let (Some(phoff), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) {
            for i in 0..count {
                let ph = phoff + i * size;
                if u32_at(ph) == Some(3) {
                    // PT_INTERP: p_offset at +8, p_filesz at +32.
                    if let (Some(off), Some(len)) = (u64_at(ph + 8), u64_at(ph + 32)) {
                        elf.interpreter = b
                            .get(off..off + len)
                            .map(|s| String::from_utf8_lossy(s).trim_end_matches('\0').to_owned());
                    }
                }
            }
        }
        if let (Some(shoff), Some(size), Some(count)) = (u64_at(0x28), u16_at(0x3A), u16_at(0x3C)) {
            elf.has_symtab = (0..count).any(|i| u32_at(shoff + i * size + 4) == Some(2));
        }
        elf
    }
}
