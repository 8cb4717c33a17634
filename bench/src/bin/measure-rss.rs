//! `measure-rss <program> [args...]`: runs one program and prints, as the last line of
//! its stdout, `child_max_rss_kib=N wrapper_hwm_kib=M exit=C` (the program's own stdout
//! goes to stderr).
//!
//! The peak RSS comes from `getrusage(RUSAGE_CHILDREN)`, which is the largest among *all*
//! waited-for children, so the bench starts a fresh wrapper per measurement. The wrapper
//! is its own small binary because at `exec` Linux folds the peak RSS of the memory the
//! child ran on before (the wrapper's: `posix_spawn` has vfork semantics) into the
//! child's: the wrapper's peak is a floor under every figure, and it is printed too. It
//! is read from `VmHWM` in /proc/self/status, the peak of this process's own memory:
//! `getrusage(RUSAGE_SELF)` would report the *bench's* peak, folded in the same way when
//! the bench started this wrapper.

use std::os::fd::AsFd;
use std::process::{Command, ExitCode, Stdio};

use nix::sys::resource::{UsageWho, getrusage};

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let Some((program, args)) = args.split_first() else {
        eprintln!("usage: measure-rss <program> [args...]");
        return ExitCode::FAILURE;
    };
    let status = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .and_then(|stderr| {
            Command::new(program)
                .args(args)
                .stdout(Stdio::from(stderr))
                .status()
        });
    let status = match status {
        Ok(status) => status,
        Err(e) => {
            eprintln!("measure-rss: cannot run {}: {e}", program.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let hwm_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        })
        .unwrap_or(-1);
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(children) => {
            // Linux reports ru_maxrss in KiB.
            println!(
                "child_max_rss_kib={} wrapper_hwm_kib={hwm_kib} exit={}",
                children.max_rss(),
                status.code().unwrap_or(-1)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("measure-rss: getrusage: {e}");
            ExitCode::FAILURE
        }
    }
}
