//! The load driver: a fixed number of keep-alive connections, each sending its next request
//! as soon as the previous answer is read (closed loop), for a warm-up and then a measured
//! window. Only requests that start inside the window are counted.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Conn, Prepared};
use crate::procs::ProcStats;
use crate::Res;

/// The next request of one connection.
pub struct Step {
    pub req: Arc<Prepared>,
    /// The status the request must get.
    pub expect: u16,
}

/// Makes the requests of one connection.
pub trait Gen: Send {
    fn next(&mut self) -> Step;
    /// Told the status of the request `next` gave last.
    fn done(&mut self, _status: u16) {}
}

/// Builds the generator of connection `i`.
pub type MakeGen<'a> = &'a (dyn Fn(usize) -> Box<dyn Gen> + Sync);

/// What one window measured.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub requests: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    /// Sorted latencies, in microseconds.
    pub latencies_us: Vec<u32>,
    /// Server CPU time in the window, in microseconds (all its threads).
    pub cpu_us: f64,
    /// Peak resident set of the server in the window, in KiB.
    pub peak_rss_kib: u64,
}

impl Window {
    pub fn rps(&self) -> f64 {
        if self.seconds > 0.0 {
            self.requests as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Percentile `p` (0..=100) of sorted latencies.
pub fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[rank.min(sorted.len() - 1)])
}

struct ConnOut {
    requests: u64,
    errors: u64,
    first_error: Option<String>,
    latencies: Vec<u32>,
}

/// Runs `connections` connections against `addr` for `warmup` then `measure`; `servers` are
/// the processes whose CPU and memory the window records.
pub async fn run(
    addrs: &[SocketAddr],
    connections: usize,
    warmup: Duration,
    measure: Duration,
    make: MakeGen<'_>,
    servers: &[u32],
) -> Res<Window> {
    let mut conns = Vec::with_capacity(connections);
    for i in 0..connections {
        conns.push(Conn::connect(addrs[i % addrs.len()]).await?);
    }
    let start = Instant::now() + Duration::from_millis(20);
    let open = start + warmup;
    let close = open + measure;
    let mut tasks = Vec::with_capacity(connections);
    for (i, mut conn) in conns.into_iter().enumerate() {
        let mut gen = make(i);
        tasks.push(tokio::spawn(async move {
            let mut out = ConnOut {
                requests: 0,
                errors: 0,
                first_error: None,
                latencies: Vec::with_capacity(4096),
            };
            tokio::time::sleep_until(start.into()).await;
            loop {
                let t0 = Instant::now();
                if t0 >= close {
                    break;
                }
                let step = gen.next();
                let counted = t0 >= open;
                match conn.send(&step.req, false).await {
                    Ok(res) => {
                        let took = t0.elapsed();
                        gen.done(res.status);
                        if counted {
                            out.requests += 1;
                            out.latencies
                                .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                            if res.status != step.expect && step.expect != 0 {
                                out.errors += 1;
                                if out.first_error.is_none() {
                                    out.first_error = Some(format!(
                                        "status {} (expected {})",
                                        res.status, step.expect
                                    ));
                                }
                            }
                        }
                    }
                    Err(e) => {
                        out.errors += 1;
                        if out.first_error.is_none() {
                            out.first_error = Some(e.to_string());
                        }
                        break;
                    }
                }
            }
            out
        }));
    }
    tokio::time::sleep_until(open.into()).await;
    let before: Vec<ProcStats> = servers.iter().map(|p| ProcStats::begin(*p)).collect();
    let t_open = Instant::now();
    tokio::time::sleep_until(close.into()).await;
    let seconds = t_open.elapsed().as_secs_f64();
    let mut w = Window {
        seconds,
        ..Window::default()
    };
    for b in &before {
        let (cpu, rss) = b.end();
        w.cpu_us += cpu;
        w.peak_rss_kib = w.peak_rss_kib.max(rss);
    }
    for t in tasks {
        let out = t.await?;
        w.requests += out.requests;
        w.errors += out.errors;
        if w.first_error.is_none() {
            w.first_error = out.first_error;
        }
        w.latencies_us.extend(out.latencies);
    }
    w.latencies_us.sort_unstable();
    Ok(w)
}
