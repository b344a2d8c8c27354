//! `bench run`: start the servers, seed, measure every scenario interleaved with the
//! reference, and write the report.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::Prepared;
use crate::load;
use crate::procs::{self, Pinning, Server};
use crate::report::{self, Cell};
use crate::scenarios::{Data, Ranking, Scenario};
use crate::seed::{self, request, Seeder, Tenant, CONFIGS};
use crate::Res;

/// What `bench run` was told.
#[derive(Debug, Clone)]
pub struct Plan {
    pub quick: bool,
    pub enrollgraph: PathBuf,
    pub self_exe: PathBuf,
    pub postgres: Option<String>,
    pub connections: Vec<usize>,
    pub scenarios: Vec<Scenario>,
    pub warmup: Duration,
    pub measure: Duration,
    pub rounds: usize,
    pub million: usize,
    pub out: PathBuf,
    pub pin: Pinning,
    pub keep: bool,
}

/// How much data to seed.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    read_tenants: usize,
    per_kind: usize,
    assignments: usize,
    write_tenants: usize,
    write_per_kind: usize,
    rankings: usize,
    ranking_len: usize,
}

use crate::seed::LIST_QUERY;

fn tenant_id(group: u32, i: usize) -> String {
    format!("{group:08x}-0000-4000-8000-{i:012x}")
}

struct Env {
    plan: Plan,
    work: PathBuf,
    key_file: PathBuf,
    keys: auth::Keys,
    notes: Vec<String>,
}

impl Env {
    fn tenant(&self, group: u32, i: usize) -> Res<Tenant> {
        let id = tenant_id(group, i);
        let t = domain::TenantId::parse(&id).ok_or("bad tenant id")?;
        let claims = auth::dev_claims(&t, &[], &[], 4 * 3600);
        Ok(Tenant {
            id,
            token: self.keys.mint(&claims)?,
        })
    }

    async fn enrollgraph(&self, name: &str, database: Option<&str>, extra: &[&str]) -> Res<Server> {
        let data = self.work.join(name);
        std::fs::create_dir_all(&data)?;
        let addr = procs::free_port()?;
        let mut args = vec![
            "serve".to_owned(),
            "--listen".into(),
            addr.to_string(),
            "--data-dir".into(),
            data.display().to_string(),
            "--signing-key-file".into(),
            self.key_file.display().to_string(),
        ];
        if let Some(db) = database {
            args.push("--database".into());
            args.push(db.to_owned());
        }
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        Server::start(
            name,
            &self.plan.enrollgraph,
            &args,
            &[],
            addr,
            &self.plan.pin,
            &self.work.join(format!("{name}.log")),
        )
        .await
    }

    async fn reference(&self, name: &str, bodies: &HashMap<String, String>) -> Res<Server> {
        let file = self.work.join(format!("{name}-bodies.json"));
        std::fs::write(&file, serde_json::to_vec(bodies)?)?;
        let db = self.work.join(format!("{name}.db"));
        let addr = procs::free_port()?;
        let args = vec![
            "reference".to_owned(),
            "--listen".into(),
            addr.to_string(),
            "--bodies".into(),
            file.display().to_string(),
            "--db".into(),
            db.display().to_string(),
        ];
        Server::start(
            name,
            &self.plan.self_exe,
            &args,
            &[],
            addr,
            &self.plan.pin,
            &self.work.join(format!("{name}.log")),
        )
        .await
    }
}

/// Seeds through the API of the server at `addr`; returns the scenarios' data and the bodies
/// the reference must answer.
async fn seed_api(
    env: &Env,
    addr: std::net::SocketAddr,
    sizes: Sizes,
    group: u32,
) -> Res<(Data, HashMap<String, String>)> {
    let started = Instant::now();
    let s = Seeder::new(addr, 16).await?;
    let mut bodies = HashMap::new();
    let mut gets = Vec::new();
    let mut mix_writes = Vec::new();
    let mut read = Vec::new();
    for i in 0..sizes.read_tenants {
        let t = env.tenant(group, i)?;
        seed::configurations(&s, &t, "bench", sizes.per_kind, sizes.assignments).await?;
        for id in seed::list_ids(&s, &t).await? {
            gets.push(Arc::new(request(
                "GET",
                &format!("{CONFIGS}/{id}"),
                &t.token,
                None,
            )));
        }
        for body in seed::kind_bodies("mix") {
            mix_writes.push(Arc::new(request("POST", CONFIGS, &t.token, Some(&body))));
        }
        read.push(t);
    }
    let first = read.first().ok_or("no read tenant")?;
    // The list page: with `$filter` and `$orderby` if the server takes them.
    let filtered = format!("{CONFIGS}{LIST_QUERY}");
    let probe = s
        .one(&request("GET", &filtered, &first.token, None))
        .await?;
    let (list_target, list_filtered) = if probe.status == 200 {
        (filtered, true)
    } else {
        (CONFIGS.to_owned(), false)
    };
    let list = Arc::new(request("GET", &list_target, &first.token, None));
    // What the reference answers: enrollgraph's own bytes for each GET.
    for g in gets.iter().chain(std::iter::once(&list)) {
        let target = target_of(g)?;
        let res = s.one(g).await?;
        if res.status != 200 {
            return Err(format!("GET {target}: {}", res.status).into());
        }
        bodies.insert(target, res.text());
    }
    let mut creates = Vec::new();
    let mut assignment_creates = Vec::new();
    let mut assigns = Vec::new();
    for i in 0..sizes.write_tenants {
        let t = env.tenant(group + 1, i)?;
        let ids = seed::configurations(&s, &t, "write", sizes.write_per_kind, 0).await?;
        for body in seed::kind_bodies("created") {
            creates.push(Arc::new(request("POST", CONFIGS, &t.token, Some(&body))));
        }
        for (n, id) in ids.iter().enumerate() {
            assignment_creates.push(Arc::new(request(
                "POST",
                &format!("{CONFIGS}/{id}/assignments"),
                &t.token,
                Some(&seed::assignment_body(n)),
            )));
            assigns.push(Arc::new(request(
                "POST",
                &format!("{CONFIGS}/{id}/assign"),
                &t.token,
                Some(&seed::assign_body(10, n)),
            )));
        }
    }
    let mut rankings = Vec::new();
    let limit = &seed::kind_bodies("ranked")[0];
    let mut reqs = Vec::new();
    let mut tenants = Vec::new();
    for i in 0..sizes.rankings {
        let t = env.tenant(group + 2, i)?;
        for _ in 0..sizes.ranking_len {
            reqs.push(request("POST", CONFIGS, &t.token, Some(limit)));
        }
        tenants.push(t);
    }
    s.all(reqs, 201).await?;
    for t in tenants {
        let res = s.one(&request("GET", CONFIGS, &t.token, None)).await?;
        let v = res.json()?;
        let mut ranked: Vec<(i64, String)> = v
            .get("value")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter(|c| {
                        c["@odata.type"] == "#microsoft.graph.deviceEnrollmentLimitConfiguration"
                            && c["priority"].as_i64().is_some_and(|p| p > 0)
                    })
                    .filter_map(|c| Some((c["priority"].as_i64()?, seed::id_of(c).ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        ranked.sort();
        rankings.push(Arc::new(Mutex::new(Ranking {
            token: t.token.clone(),
            ids: ranked.into_iter().map(|(_, id)| id).collect(),
        })));
    }
    eprintln!(
        "seeded {} read tenants ({} GET targets), {} write tenants, {} rankings in {:.1} s",
        sizes.read_tenants,
        gets.len(),
        sizes.write_tenants,
        sizes.rankings,
        started.elapsed().as_secs_f64()
    );
    Ok((
        Data {
            gets,
            list,
            list_target,
            list_filtered,
            creates,
            mix_writes,
            assignment_creates,
            assigns,
            rankings,
        },
        bodies,
    ))
}

fn target_of(p: &Prepared) -> Res<String> {
    let line = p.bytes.split(|b| *b == b'\r').next().unwrap_or_default();
    let text = std::str::from_utf8(line)?;
    Ok(text.split(' ').nth(1).unwrap_or("/").to_owned())
}

/// One scenario at one connection count: reference and subject windows in turn.
async fn cell(
    env: &Env,
    group: &str,
    scenario: Scenario,
    connections: usize,
    data: &Data,
    subject: &[&Server],
    reference: &Server,
) -> Res<Cell> {
    let mut c = Cell {
        group: group.to_owned(),
        scenario: scenario.name().to_owned(),
        connections,
        ..Cell::default()
    };
    let plan = &env.plan;
    let addrs: Vec<_> = subject.iter().map(|s| s.addr).collect();
    let pids: Vec<u32> = subject.iter().map(|s| s.pid()).collect();
    for _ in 0..plan.rounds {
        let make_ref = |i: usize| data.generator(scenario, i, false);
        let w = load::run(
            &[reference.addr],
            connections,
            plan.warmup,
            plan.measure,
            &make_ref,
            &[reference.pid()],
        )
        .await?;
        c.reference.push(w);
        settle().await;
        let make = |i: usize| data.generator(scenario, i, true);
        let w = load::run(&addrs, connections, plan.warmup, plan.measure, &make, &pids).await?;
        c.subject.push(w);
        settle().await;
    }
    eprintln!(
        "  {group:<10} {:<22} {:>2} conns: ref {:>8.0} req/s, {:>8.0} req/s, ratio {:.2}, p99 {:.2} ms",
        c.scenario,
        connections,
        Cell::rps(&c.reference),
        Cell::rps(&c.subject),
        c.ratio(),
        Cell::p(&c.subject, 99.0)
    );
    Ok(c)
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The whole run.
pub async fn run(plan: Plan) -> Res<()> {
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("enrollgraph-bench")
        .tempdir()?;
    let key_file = work.path().join("signing-key.pem");
    let ok = std::process::Command::new(&plan.enrollgraph)
        .args(["keygen", "--out"])
        .arg(&key_file)
        .stdout(std::process::Stdio::null())
        .status()?
        .success();
    if !ok {
        return Err("enrollgraph keygen failed".into());
    }
    let keys = auth::Keys::load_file(&key_file)?;
    let mut env = Env {
        plan: plan.clone(),
        work: work.path().to_owned(),
        key_file,
        keys,
        notes: Vec::new(),
    };
    let sizes = if plan.quick {
        Sizes {
            read_tenants: 2,
            per_kind: 13,
            assignments: 1,
            write_tenants: 2,
            write_per_kind: 2,
            rankings: plan.connections.iter().copied().max().unwrap_or(1),
            ranking_len: 5,
        }
    } else {
        Sizes {
            read_tenants: 4,
            per_kind: 13,
            assignments: 2,
            write_tenants: 4,
            write_per_kind: 2,
            rankings: plan.connections.iter().copied().max().unwrap_or(1),
            ranking_len: 8,
        }
    };
    let mut doc = String::new();
    let machine = machine_line();
    let _ = writeln!(doc, "Run of `bench run{}`: {machine}; {}; windows of {} ms after {} ms warm-up, {} interleaved round(s) per cell.\n",
        if plan.quick { " --quick" } else { "" },
        plan.pin.describe(), plan.measure.as_millis(), plan.warmup.as_millis(), plan.rounds);

    // SQLite.
    let eg = env.enrollgraph("eg-sqlite", None, &[]).await?;
    let (data, bodies) = seed_api(&env, eg.addr, sizes, 0x5eed_0000).await?;
    let reference = env.reference("reference", &bodies).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_eg = eg.rss_kib();
    let idle_ref = reference.rss_kib();
    if !data.list_filtered {
        env.notes.push(format!(
            "The list scenario is a plain list (`GET {}` on a tenant of {} configurations): this build refused `{LIST_QUERY}`, the query engine is not wired into the list endpoint yet.",
            data.list_target,
            sizes.per_kind * 8 + 6
        ));
    }
    let mut cells = Vec::new();
    for &scenario in &plan.scenarios {
        for &n in &plan.connections {
            cells.push(cell(&env, "sqlite", scenario, n, &data, &[&eg], &reference).await?);
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after_eg = eg.rss_kib();
    let _ = writeln!(doc, "### SQLite\n");
    let _ = writeln!(
        doc,
        "List request: `GET {}`{}.\n",
        data.list_target,
        if data.list_filtered {
            ""
        } else {
            " (plain list: see notes)"
        }
    );
    doc.push_str(&report::table(&cells, "enrollgraph"));
    let _ = writeln!(
        doc,
        "\nResident set: enrollgraph {:.1} MiB idle after seeding, {:.1} MiB after all the SQLite scenarios, peak {:.1} MiB in any window; reference {:.1} MiB idle.\n",
        mib(idle_eg),
        mib(after_eg),
        cells.iter().map(|c| Cell::peak_mib(&c.subject)).fold(0.0, f64::max),
        mib(idle_ref)
    );
    let goals = goals(&cells, idle_eg, after_eg);
    eg.stop();
    reference.stop();

    // PostgreSQL: one and two nodes.
    if let Some(url) = &plan.postgres {
        postgres(&env, url, sizes, &mut doc).await?;
    }

    // A page over 1,000 and over 1,000,000 configurations.
    if plan.million > 0 {
        doc.push_str(&million(&env, &data).await?);
    }

    let _ = writeln!(doc, "### Goals\n\n{goals}");
    if !env.notes.is_empty() {
        let _ = writeln!(doc, "### Notes\n");
        for n in &env.notes {
            let _ = writeln!(doc, "- {n}");
        }
    }
    let _ = writeln!(
        doc,
        "\nWhole run: {:.0} s.",
        started.elapsed().as_secs_f64()
    );
    if let Some(dir) = plan.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&plan.out, &doc)?;
    println!("{doc}");
    eprintln!("report written to {}", plan.out.display());
    if plan.keep {
        let kept = work.keep();
        eprintln!("work dir kept: {}", kept.display());
    }
    Ok(())
}

fn machine_line() -> String {
    // The machine's CPUs, not this process's (it is pinned by now).
    let cpus = std::fs::read_to_string("/proc/cpuinfo").map_or(0, |s| {
        s.lines().filter(|l| l.starts_with("processor")).count()
    });
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_default();
    format!(
        "{cpus} CPUs ({model}), load average at start {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

fn find<'a>(cells: &'a [Cell], scenario: &str, conns: usize) -> Option<&'a Cell> {
    cells
        .iter()
        .find(|c| c.scenario == scenario && c.connections == conns)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "**met**"
    } else {
        "**not met**"
    }
}

fn goals(cells: &[Cell], idle_kib: u64, after_kib: u64) -> String {
    let mut s = String::new();
    let top = cells.iter().map(|c| c.connections).max().unwrap_or(0);
    let mut counts = vec![1, 8, top];
    counts.sort_unstable();
    counts.dedup();
    for &n in &counts {
        if let Some(c) = find(cells, "get", n) {
            let _ = writeln!(
                s,
                "- GET by id ≥ 0.5× the reference at {n} connection(s): {:.2}× — {}",
                c.ratio(),
                verdict(c.ratio() >= 0.5)
            );
        }
    }
    for &n in &counts {
        if let Some(c) = find(cells, "create-configuration", n) {
            let _ = writeln!(
                s,
                "- durable create ≥ 1.5× the reference's one-row-per-commit insert at {n} connection(s): {:.2}× — {}",
                c.ratio(),
                verdict(c.ratio() >= 1.5)
            );
        }
    }
    for sc in ["get", "list"] {
        if let Some(c) = find(cells, sc, top) {
            let p99 = Cell::p(&c.subject, 99.0);
            let _ = writeln!(
                s,
                "- p99 < 5 ms for `{sc}` at {top} connections: {p99:.2} ms — {}",
                verdict(p99 < 5.0)
            );
        }
    }
    let peak = cells
        .iter()
        .map(|c| Cell::peak_mib(&c.subject))
        .fold(0.0, f64::max);
    let _ = writeln!(
        s,
        "- RSS < 64 MiB idle: {:.1} MiB — {}; under load: peak {:.1} MiB, {:.1} MiB after the load",
        mib(idle_kib),
        verdict(mib(idle_kib) < 64.0),
        peak,
        mib(after_kib)
    );
    s
}

async fn postgres(env: &Env, url: &str, sizes: Sizes, doc: &mut String) -> Res<()> {
    let schema = format!("bench_{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let sep = if url.contains('?') { '&' } else { '?' };
    let db = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let a = env.enrollgraph("eg-pg-a", Some(&db), &[]).await?;
    let (data, bodies) = seed_api(env, a.addr, sizes, 0x9900_0000).await?;
    let reference = env.reference("reference-pg", &bodies).await?;
    let mut cells = Vec::new();
    let top = env.plan.connections.iter().copied().max().unwrap_or(1);
    // One node: every scenario at every connection count, as on SQLite.
    for &sc in &env.plan.scenarios {
        for &n in &env.plan.connections {
            cells.push(cell(env, "pg-1-node", sc, n, &data, &[&a], &reference).await?);
        }
    }
    // Two nodes: every scenario at the largest connection count.
    let b = env.enrollgraph("eg-pg-b", Some(&db), &[]).await?;
    for &sc in &env.plan.scenarios {
        cells.push(cell(env, "pg-2-nodes", sc, top, &data, &[&a, &b], &reference).await?);
    }
    let _ = writeln!(doc, "### PostgreSQL: one and two nodes\n");
    let _ = writeln!(doc, "Both nodes share one signing key (`--signing-key-file`) and one schema; with two nodes the connections alternate between them. The PostgreSQL server is not pinned (it runs where the kernel puts it, on both CPUs); CPU and RSS columns are the enrollgraph node(s) only (two nodes: CPU summed, RSS the larger).\n");
    for (title, group) in [("One node", "pg-1-node"), ("Two nodes", "pg-2-nodes")] {
        let these: Vec<Cell> = cells.iter().filter(|c| c.group == group).cloned().collect();
        let _ = writeln!(doc, "{title}:\n");
        doc.push_str(&report::table(&these, "enrollgraph"));
        doc.push('\n');
    }
    a.stop();
    b.stop();
    reference.stop();
    let dropped = std::process::Command::new("psql")
        .arg(url)
        .args(["-qAtc", &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !dropped {
        eprintln!("could not drop schema {schema} (psql): drop it by hand");
    }
    Ok(())
}

/// The same list page over a tenant of 1,000 configurations and one of `plan.million`, in
/// one database, measured in turn.
async fn million(env: &Env, data: &Data) -> Res<String> {
    let n = env.plan.million;
    let dir = env.work.join("eg-million");
    std::fs::create_dir_all(&dir)?;
    let db_path = dir.join("enrollgraph.db");
    let url = format!("sqlite://{}", db_path.display());
    let small = env.tenant(0x0001_0000, 1)?;
    let big = env.tenant(0x0001_0000, 2)?;
    eprintln!(
        "writing 1,000 + {n} configurations straight into {}",
        db_path.display()
    );
    let secs = {
        let models = Arc::new(edm::Models::load()?);
        let store = store::open(&url, &store::Options::default())?;
        let t_small = domain::TenantId::parse(&small.id).ok_or("tenant")?;
        let t_big = domain::TenantId::parse(&big.id).ok_or("tenant")?;
        crate::million::fill(&store, &models, &t_small, 1000).await?;
        crate::million::fill(&store, &models, &t_big, n).await?
    };
    let size = std::fs::metadata(&db_path).map_or(0, |m| m.len());
    // Without kept responses: every request reads its page from the store.
    let eg = env
        .enrollgraph("eg-million", Some(&url), &["--read-cache", "0"])
        .await?;
    let target = data.list_target.clone();
    let mut s = String::new();
    let rounds = if env.plan.quick { 5 } else { 50 };
    let budget_secs = if env.plan.quick { 60 } else { 240 };
    let _ = writeln!(
        s,
        "### A list page over 1,000 and over {n} configurations\n"
    );
    let _ = writeln!(s, "Seeded with the store's API (`store::open`, `domain::store::write`, `WriteTx::insert_configuration`) in {secs:.0} s; database file {:.0} MiB. Request: `GET {target}`{}; server started with `--read-cache 0`, so that every request reads its page from the store; one connection, requests alternating between the two tenants ({} rounds at most, within {} s), each bounded to 120 s.\n",
        size as f64 / (1024.0 * 1024.0),
        if data.list_filtered { "" } else { " (a plain list: every configuration of the tenant, as the query engine is not wired yet)" },
        rounds, budget_secs);
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut sizes = [0usize; 2];
    let mut statuses = [0u16; 2];
    let mut conn = crate::client::Conn::connect(eg.addr).await?;
    let reqs = [
        request("GET", &target, &small.token, None),
        request("GET", &target, &big.token, None),
    ];
    // Warm both (the first request of a tenant also loads its pages from disk).
    let budget = Instant::now() + Duration::from_secs(budget_secs);
    let pids = [eg.pid()];
    let stats = crate::procs::ProcStats::begin(pids[0]);
    'outer: for round in 0..=rounds {
        for (i, r) in reqs.iter().enumerate() {
            let t0 = Instant::now();
            let res = tokio::time::timeout(Duration::from_secs(120), conn.send(r, true)).await;
            let took = t0.elapsed().as_secs_f64() * 1000.0;
            match res {
                Ok(Ok(res)) => {
                    statuses[i] = res.status;
                    sizes[i] = res.body.len();
                    if round > 0 {
                        times[i].push(took);
                    }
                }
                Ok(Err(e)) => return Err(format!("list over {n}: {e}").into()),
                Err(_) => {
                    times[i].push(took);
                    statuses[i] = 0;
                    break 'outer;
                }
            }
            if Instant::now() > budget && round > 0 {
                break 'outer;
            }
        }
    }
    let (_, peak) = stats.end();
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let m_small = med(&mut times[0]);
    let m_big = med(&mut times[1]);
    let ratio = m_big / m_small;
    let _ = writeln!(s, "| tenant | configurations | status | response bytes | median ms | samples |\n|---|--:|--:|--:|--:|--:|");
    let _ = writeln!(
        s,
        "| small | 1,000 | {} | {} | {m_small:.2} | {} |",
        statuses[0],
        sizes[0],
        times[0].len()
    );
    let _ = writeln!(
        s,
        "| large | {n} | {} | {} | {m_big:.2} | {} |",
        statuses[1],
        sizes[1],
        times[1].len()
    );
    let _ = writeln!(s, "\nRatio large/small: **{ratio:.1}×** (goal ≤ 1.5×: {}); enrollgraph peak RSS while serving these: {:.0} MiB.\n",
        verdict(ratio <= 1.5), mib(peak));
    eg.stop();
    Ok(s)
}

/// Resolves the default report path.
pub fn default_out() -> PathBuf {
    Path::new("target").join("bench").join("report.md")
}
