//! Results: one row per scenario and connection count, every figure next to the reference's
//! from the interleaved windows.

use std::fmt::Write;

use crate::load::{percentile, Window};

/// The interleaved windows of one scenario at one connection count.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub group: String,
    pub scenario: String,
    pub connections: usize,
    pub reference: Vec<Window>,
    pub subject: Vec<Window>,
}

fn merged(ws: &[Window]) -> Vec<u32> {
    let mut all: Vec<u32> = ws
        .iter()
        .flat_map(|w| w.latencies_us.iter().copied())
        .collect();
    all.sort_unstable();
    all
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

impl Cell {
    pub fn rps(ws: &[Window]) -> f64 {
        mean(ws.iter().map(Window::rps))
    }

    /// Geometric mean of the per-round ratios subject/reference (each round pairs two
    /// adjacent windows, so slow drift of the machine cancels).
    pub fn ratio(&self) -> f64 {
        let pairs: Vec<f64> = self
            .reference
            .iter()
            .zip(&self.subject)
            .filter(|(r, _)| r.rps() > 0.0)
            .map(|(r, s)| (s.rps() / r.rps()).max(1e-9).ln())
            .collect();
        if pairs.is_empty() {
            0.0
        } else {
            (pairs.iter().sum::<f64>() / pairs.len() as f64).exp()
        }
    }

    pub fn p(ws: &[Window], q: f64) -> f64 {
        percentile(&merged(ws), q) / 1000.0
    }

    pub fn cpu_us(ws: &[Window]) -> f64 {
        let req: u64 = ws.iter().map(|w| w.requests).sum();
        let cpu: f64 = ws.iter().map(|w| w.cpu_us).sum();
        if req == 0 {
            0.0
        } else {
            cpu / req as f64
        }
    }

    pub fn peak_mib(ws: &[Window]) -> f64 {
        ws.iter().map(|w| w.peak_rss_kib).max().unwrap_or(0) as f64 / 1024.0
    }

    pub fn errors(ws: &[Window]) -> (u64, Option<String>) {
        (
            ws.iter().map(|w| w.errors).sum(),
            ws.iter().find_map(|w| w.first_error.clone()),
        )
    }
}

/// The markdown table of `cells`.
pub fn table(cells: &[Cell], subject: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| scenario | conns | reference req/s | {subject} req/s | ratio | {subject} p50 ms | {subject} p99 ms | ref p50 ms | ref p99 ms | {subject} CPU µs/req | ref CPU µs/req | {subject} peak RSS MiB | errors |"
    );
    let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for c in cells {
        let (errs, first) = Cell::errors(&c.subject);
        let (ref_errs, _) = Cell::errors(&c.reference);
        let err_text = match (errs + ref_errs, first) {
            (0, _) => "0".to_owned(),
            (n, Some(f)) => format!("{n} ({f})"),
            (n, None) => n.to_string(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {:.0} | **{:.2}×** | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1} | {} |",
            c.scenario,
            c.connections,
            Cell::rps(&c.reference),
            Cell::rps(&c.subject),
            c.ratio(),
            Cell::p(&c.subject, 50.0),
            Cell::p(&c.subject, 99.0),
            Cell::p(&c.reference, 50.0),
            Cell::p(&c.reference, 99.0),
            Cell::cpu_us(&c.subject),
            Cell::cpu_us(&c.reference),
            Cell::peak_mib(&c.subject),
            err_text
        );
    }
    s
}
