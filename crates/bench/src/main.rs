//! # bench: how fast enrollgraph is, next to the least a server could do
//!
//! ## Layout
//! - [`run`]: `bench run`: starts enrollgraph (SQLite; PostgreSQL with one and two nodes when
//!   given `--postgres`) and the [`reference`] server, seeds through the API ([`seed`]),
//!   measures each [`scenarios::Scenario`] at each connection count with the [`load`] driver,
//!   windows of the reference and of enrollgraph in turn, and writes the [`report`].
//! - [`reference`]: a minimal axum server: the same GET bytes from a map, and one durable
//!   one-row SQLite insert per POST.
//! - [`million`]: a large tenant written straight into SQLite with the store's API.
//! - [`client`]: the HTTP/1.1 client of the driver and the seeder.
//! - [`procs`]: server processes, CPU pinning, CPU time and memory from `/proc`.
//! - [`guard`]: `bench guard`: instructions per request counted by callgrind, against the
//!   checked-in `budget.json`.
//!
//! See `BENCHMARKS.md` at the repository root for the commands and the results.

mod client;
mod guard;
mod load;
mod million;
mod procs;
mod reference;
mod report;
mod run;
mod scenarios;
mod seed;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Errors of the bench: anything, with its message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Res<T> = Result<T, Error>;

/// Benchmarks of enrollgraph against a minimal reference server.
#[derive(Parser)]
#[command(name = "bench")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the benchmark and write the report.
    Run(RunArgs),
    /// Check instructions per request against the budget (needs valgrind).
    Guard(GuardArgs),
    /// The reference server (started by `run`).
    #[command(hide = true)]
    Reference {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        bodies: PathBuf,
        #[arg(long)]
        db: PathBuf,
    },
    /// The workload counted by `guard` (run under callgrind).
    #[command(hide = true)]
    GuardRun {
        #[arg(long)]
        op: String,
        #[arg(long)]
        n: usize,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// A short run: one round of short windows, less data, 100,000 instead of 1,000,000
    /// configurations in the large tenant.
    #[arg(long)]
    quick: bool,
    /// PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/test): also measure one and
    /// two nodes on it, in a schema of their own dropped at the end.
    #[arg(long)]
    postgres: Option<String>,
    /// The enrollgraph binary; by default the one next to this one.
    #[arg(long)]
    enrollgraph: Option<PathBuf>,
    /// Connection counts.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    connections: Vec<usize>,
    /// Scenarios (get, list, create-configuration, create-assignment, set-priority, assign,
    /// mix); by default all.
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Measured window, in milliseconds (default 1500; 500 with --quick).
    #[arg(long)]
    window_ms: Option<u64>,
    /// Warm-up before each window, in milliseconds (default 300; 150 with --quick).
    #[arg(long)]
    warmup_ms: Option<u64>,
    /// Interleaved rounds per cell (default 2; 1 with --quick).
    #[arg(long)]
    rounds: Option<usize>,
    /// Configurations in the large tenant of the list comparison; 0 skips it.
    #[arg(long)]
    million: Option<usize>,
    /// Do not pin the servers and the driver to CPUs.
    #[arg(long)]
    no_pin: bool,
    /// Keep the work directory (data dirs and logs).
    #[arg(long)]
    keep: bool,
    /// Where to write the report (markdown).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(clap::Args)]
struct GuardArgs {
    /// The budget file.
    #[arg(long, default_value = "crates/bench/budget.json")]
    budget: PathBuf,
    /// Write the measured figures as the new budget.
    #[arg(long)]
    update: bool,
    /// Requests measured per operation.
    #[arg(long, default_value_t = 200)]
    n: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Run(args) => bench(args),
        Cmd::Guard(g) => match guard::check(&g.budget, g.update, g.n) {
            Ok(true) => Ok(()),
            Ok(false) => Err("over budget".into()),
            Err(e) => Err(e),
        },
        Cmd::Reference { listen, bodies, db } => reference::serve(listen, &bodies, &db),
        Cmd::GuardRun { op, n } => guard::workload(&op, n),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: RunArgs) -> Res<()> {
    let quick = args.quick;
    let mut scenarios = Vec::new();
    for s in &args.scenarios {
        scenarios
            .push(scenarios::Scenario::parse(s).ok_or_else(|| format!("unknown scenario {s}"))?);
    }
    if scenarios.is_empty() {
        scenarios = scenarios::Scenario::ALL.to_vec();
    }
    let pin = procs::Pinning::detect(!args.no_pin);
    let plan = run::Plan {
        quick,
        enrollgraph: procs::enrollgraph_binary(args.enrollgraph)?,
        self_exe: std::env::current_exe()?,
        postgres: args.postgres,
        connections: args.connections,
        scenarios,
        warmup: Duration::from_millis(args.warmup_ms.unwrap_or(if quick { 150 } else { 300 })),
        measure: Duration::from_millis(args.window_ms.unwrap_or(if quick { 500 } else { 1500 })),
        rounds: args.rounds.unwrap_or(if quick { 1 } else { 2 }).max(1),
        million: args
            .million
            .unwrap_or(if quick { 100_000 } else { 1_000_000 }),
        out: args.out.unwrap_or_else(run::default_out),
        pin,
        keep: args.keep,
    };
    // Pin before the runtime starts its threads, so that all of them inherit it.
    plan.pin.pin_self()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run::run(plan))
}
