//! The results: a plain-text table for the terminal and `BENCHMARKS.md`.

use std::fmt::Write as _;

use crate::stats::Stat;

/// How a value is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    S,
    Ms,
    MiB,
    MB,
    Count,
    PerMinute,
    PerHour,
}

impl Unit {
    fn format(self, value: f64) -> String {
        match self {
            Unit::S => format!("{value:.1} s"),
            Unit::Ms if value.abs() < 10.0 => format!("{value:.2} ms"),
            Unit::Ms => format!("{value:.0} ms"),
            Unit::MiB => format!("{value:.1} MiB"),
            Unit::MB => format!("{value:.2} MB"),
            Unit::Count => format!("{value:.0}"),
            Unit::PerMinute => format!("{value:.2}/min"),
            Unit::PerHour => format!("{value:.1}/h"),
        }
    }
}

/// One measured quantity: ours, and the baseline's where there is one.
#[derive(Clone, Debug)]
pub struct Row {
    pub metric: String,
    pub unit: Unit,
    pub ours: Stat,
    pub baseline: Option<Stat>,
}

impl Row {
    pub fn new(metric: &str, unit: Unit, ours: Stat, baseline: Option<Stat>) -> Row {
        Row {
            metric: metric.to_owned(),
            unit,
            ours,
            baseline,
        }
    }

    fn cell(&self, stat: &Stat) -> String {
        if stat.n > 1 {
            format!(
                "{} ({}..{})",
                self.unit.format(stat.median),
                self.unit.format(stat.min),
                self.unit.format(stat.max)
            )
        } else {
            self.unit.format(stat.median)
        }
    }

    /// Baseline median / our median, e.g. `130x`.
    fn ratio(&self) -> String {
        match self.baseline {
            Some(b) if self.ours.median > 0.0 => {
                let r = b.median / self.ours.median;
                if r >= 10.0 {
                    format!("{r:.0}x")
                } else {
                    format!("{r:.1}x")
                }
            }
            _ => String::new(),
        }
    }
}

/// One part of the benchmark.
#[derive(Clone, Debug)]
pub struct Section {
    pub title: String,
    /// Column names: what is measured, and the baseline (empty: no baseline column).
    pub ours: String,
    pub baseline: String,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

/// A target of the issue and whether the measurement meets it.
#[derive(Clone, Debug)]
pub struct Target {
    pub what: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub quick: bool,
    pub command: String,
    pub date: String,
    pub machine: Vec<(String, String)>,
    pub sections: Vec<Section>,
    pub targets: Vec<Target>,
}

impl Report {
    /// The table printed at the end of a run.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for section in &self.sections {
            let _ = writeln!(out, "\n{}", section.title);
            let ranges = if section.rows.iter().any(|r| r.ours.n > 1) {
                " median (min..max)"
            } else {
                ""
            };
            let header = [
                String::new(),
                format!("{}{ranges}", section.ours),
                if section.baseline.is_empty() {
                    String::new()
                } else {
                    format!("{} median (min..max)", section.baseline)
                },
                if section.baseline.is_empty() {
                    String::new()
                } else {
                    "ratio".to_owned()
                },
            ];
            let rows: Vec<[String; 4]> = std::iter::once(header)
                .chain(section.rows.iter().map(|r| {
                    [
                        r.metric.clone(),
                        r.cell(&r.ours),
                        r.baseline.as_ref().map(|b| r.cell(b)).unwrap_or_default(),
                        r.ratio(),
                    ]
                }))
                .collect();
            let widths: Vec<usize> = (0..4)
                .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
                .collect();
            for row in &rows {
                let line = row
                    .iter()
                    .zip(&widths)
                    .map(|(cell, w)| format!("{cell:<w$}"))
                    .collect::<Vec<_>>()
                    .join("  ");
                let _ = writeln!(out, "  {}", line.trim_end());
            }
        }
        let _ = writeln!(out, "\nTargets");
        for t in &self.targets {
            let _ = writeln!(
                out,
                "  {:<6} {}: {} (target {})",
                if t.met { "met" } else { "MISSED" },
                t.what,
                t.measured,
                t.target
            );
        }
        out
    }

    /// `BENCHMARKS.md`.
    pub fn markdown(&self) -> String {
        let mut out = String::from("# Benchmarks\n\n");
        let _ = writeln!(
            out,
            "Written by `{}` on {}. Do not edit: run it again. Medians of the runs, with the \
             minimum and maximum in parentheses; a ratio is the baseline's median over ours.{}\n",
            self.command,
            self.date,
            if self.quick {
                " **Quick mode: two runs, debug builds; these numbers only show that the \
                 benchmark runs.**"
            } else {
                ""
            }
        );
        let _ = writeln!(out, "| machine | |\n|---|---|");
        for (key, value) in &self.machine {
            let _ = writeln!(out, "| {key} | {value} |");
        }
        let _ = writeln!(
            out,
            "\n## Targets\n\n| | target | measured | |\n|---|---|---|---|"
        );
        for t in &self.targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                t.what,
                t.target,
                t.measured,
                if t.met { "met" } else { "**missed**" }
            );
        }
        for section in &self.sections {
            let _ = writeln!(out, "\n## {}\n", section.title);
            if section.baseline.is_empty() {
                let _ = writeln!(out, "| | {} |\n|---|---|", section.ours);
            } else {
                let _ = writeln!(
                    out,
                    "| | {} | {} | ratio |\n|---|---|---|---|",
                    section.ours, section.baseline
                );
            }
            for r in &section.rows {
                if section.baseline.is_empty() {
                    let _ = writeln!(out, "| {} | {} |", r.metric, r.cell(&r.ours));
                } else {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} |",
                        r.metric,
                        r.cell(&r.ours),
                        r.baseline.as_ref().map(|b| r.cell(b)).unwrap_or_default(),
                        r.ratio()
                    );
                }
            }
            if !section.notes.is_empty() {
                out.push('\n');
            }
            for note in &section.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}

/// Formats a value for a target line.
pub fn value(unit: Unit, v: f64) -> String {
    unit.format(v)
}
