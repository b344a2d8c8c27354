//! Server processes: started pinned to the server CPUs, waited for, stopped; and what
//! `/proc` tells of their CPU time and memory.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::{Conn, Prepared};
use crate::Res;

/// Which CPUs the servers and the load driver run on.
#[derive(Debug, Clone)]
pub struct Pinning {
    /// `taskset` CPU list for servers, e.g. `0`; `None` when not pinning.
    pub server: Option<String>,
    pub driver: Option<String>,
}

impl Pinning {
    /// Servers on CPU 0 and the driver on CPU 1 when the machine has two or more CPUs and
    /// `taskset` is there; no pinning otherwise.
    pub fn detect(enabled: bool) -> Pinning {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let taskset = Command::new("taskset")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if enabled && cpus >= 2 && taskset {
            Pinning {
                server: Some("0".into()),
                driver: Some(if cpus == 2 {
                    "1".to_owned()
                } else {
                    format!("1-{}", cpus - 1)
                }),
            }
        } else {
            Pinning {
                server: None,
                driver: None,
            }
        }
    }

    /// Pins this process (all its threads) to the driver CPUs.
    pub fn pin_self(&self) -> Res<()> {
        if let Some(cpus) = &self.driver {
            let ok = Command::new("taskset")
                .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
                .stdout(Stdio::null())
                .status()?
                .success();
            if !ok {
                return Err("taskset could not pin the driver".into());
            }
        }
        Ok(())
    }

    pub fn describe(&self) -> String {
        match (&self.server, &self.driver) {
            (Some(s), Some(d)) => format!("servers on CPU {s}, load driver on CPU {d} (taskset)"),
            _ => "not pinned".into(),
        }
    }
}

/// A free loopback port (bound, then released for the server to take).
pub fn free_port() -> Res<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?)
}

/// A server process, stopped when dropped.
pub struct Server {
    pub name: String,
    pub addr: SocketAddr,
    child: Child,
}

impl Server {
    /// Starts `program args…` pinned to the server CPUs, with stdout and stderr to `log`, and
    /// waits until it answers `GET /healthz`.
    pub async fn start(
        name: &str,
        program: &Path,
        args: &[String],
        envs: &[(String, String)],
        addr: SocketAddr,
        pin: &Pinning,
        log: &Path,
    ) -> Res<Server> {
        let mut cmd = match &pin.server {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(program);
                c
            }
            None => Command::new(program),
        };
        let out = std::fs::File::create(log)?;
        let err = out.try_clone()?;
        cmd.args(args)
            .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
        let mut server = Server {
            name: name.to_owned(),
            addr,
            child,
        };
        server.wait_ready(log).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, log: &Path) -> Res<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let health = Prepared::new("GET", "/healthz", &self.addr.to_string(), "", None);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                return Err(
                    format!("{} exited ({status}) before serving:\n{text}", self.name).into(),
                );
            }
            if let Ok(mut c) = Conn::connect(self.addr).await {
                if c.send(&health, false).await.is_ok_and(|r| r.status == 200) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("{} did not answer /healthz within 60 s", self.name).into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        status_kib(self.pid(), "VmRSS:")
    }

    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        // SIGTERM first: the server finishes in-flight requests and closes its database.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill();
        }
    }
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// CPU time of a process (user + system, every thread, dead ones too), in microseconds.
pub fn cpu_us(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime 15.
    let ticks = |i: usize| {
        f.get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(14) + ticks(15)) / clock_ticks() * 1e6
}

/// CPU and peak memory of one process over a window.
pub struct ProcStats {
    pid: u32,
    cpu0: f64,
}

impl ProcStats {
    /// Starts a window: notes the CPU time and resets the peak resident set.
    pub fn begin(pid: u32) -> ProcStats {
        let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
        ProcStats {
            pid,
            cpu0: cpu_us(pid),
        }
    }

    /// CPU microseconds since `begin`, and the peak resident set since then (KiB).
    pub fn end(&self) -> (f64, u64) {
        (cpu_us(self.pid) - self.cpu0, status_kib(self.pid, "VmHWM:"))
    }
}

/// The enrollgraph binary: `--enrollgraph`, else next to this executable.
pub fn enrollgraph_binary(given: Option<PathBuf>) -> Res<PathBuf> {
    if let Some(p) = given {
        return Ok(p);
    }
    let me = std::env::current_exe()?;
    let p = me.with_file_name("enrollgraph");
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} not found: build it (cargo build --release -p enrollgraph) or pass --enrollgraph",
            p.display()
        )
        .into())
    }
}
