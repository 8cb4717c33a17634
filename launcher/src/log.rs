//! Log lines with a wall-clock timestamp and the time since the launcher started.
//!
//! Only what the launcher decides to say is logged: never the resource's spec, whose
//! `environment` and hyper-parameters may hold credentials.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Fixes the start time; called first thing in `main`.
pub fn init() {
    start();
}

pub fn line(message: &str) {
    let now = k8s_openapi::jiff::Timestamp::now();
    let now = now
        .round(k8s_openapi::jiff::Unit::Millisecond)
        .unwrap_or(now);
    let elapsed = start().elapsed().as_secs_f64();
    eprintln!("{now} +{elapsed:.1}s {message}");
}

/// `log!("created {name}")`: one timestamped line on stderr.
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::line(&format!($($arg)*))
    };
}
pub(crate) use log;
