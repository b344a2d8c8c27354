//! The scenarios: what each connection sends, built from the seeded data.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::client::Prepared;
use crate::load::{Gen, Step};
use crate::seed::{request, CONFIGS};

/// One scenario of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Get,
    List,
    CreateConfiguration,
    CreateAssignment,
    SetPriority,
    Assign,
    Mix,
}

impl Scenario {
    pub const ALL: [Scenario; 7] = [
        Scenario::Get,
        Scenario::List,
        Scenario::CreateConfiguration,
        Scenario::CreateAssignment,
        Scenario::SetPriority,
        Scenario::Assign,
        Scenario::Mix,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Get => "get",
            Scenario::List => "list",
            Scenario::CreateConfiguration => "create-configuration",
            Scenario::CreateAssignment => "create-assignment",
            Scenario::SetPriority => "set-priority",
            Scenario::Assign => "assign",
            Scenario::Mix => "mix",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// The ranking of one tenant that one connection moves items in (`setPriority`): the ids in
/// priority order, kept in step with the server as long as only that connection changes it.
#[derive(Debug)]
pub struct Ranking {
    pub token: String,
    pub ids: Vec<String>,
}

/// Everything the scenarios send, prepared once.
pub struct Data {
    /// `GET …/{id}` over the read tenants.
    pub gets: Vec<Arc<Prepared>>,
    /// The list page request, and how it was asked.
    pub list: Arc<Prepared>,
    pub list_target: String,
    pub list_filtered: bool,
    /// `POST …/deviceEnrollmentConfigurations`, every kind, over the write tenants.
    pub creates: Vec<Arc<Prepared>>,
    /// The same in the read tenants (the writes of the mix).
    pub mix_writes: Vec<Arc<Prepared>>,
    /// `POST …/{id}/assignments` on custom configurations of the write tenants.
    pub assignment_creates: Vec<Arc<Prepared>>,
    /// `POST …/{id}/assign` with 10 targets.
    pub assigns: Vec<Arc<Prepared>>,
    /// One ranking per connection for `setPriority`.
    pub rankings: Vec<Arc<Mutex<Ranking>>>,
}

/// A small deterministic random source.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        if n == 0 {
            0
        } else {
            (self.0 % n as u64) as usize
        }
    }
}

/// Cycles through a list from a per-connection random start, in random order.
struct Pick {
    reqs: Vec<Arc<Prepared>>,
    rng: Rng,
    expect: u16,
}

impl Gen for Pick {
    fn next(&mut self) -> Step {
        let i = self.rng.below(self.reqs.len());
        Step {
            req: self.reqs[i].clone(),
            expect: self.expect,
        }
    }
}

/// 9 reads, then 1 write.
struct Mix {
    reads: Pick,
    writes: Pick,
    n: u64,
}

impl Gen for Mix {
    fn next(&mut self) -> Step {
        self.n = (self.n + 1) % 10;
        if self.n == 0 {
            self.writes.next()
        } else {
            self.reads.next()
        }
    }
}

struct Priority {
    ranking: Arc<Mutex<Ranking>>,
    rng: Rng,
    /// Whether the server's state follows (enrollgraph) or not (the reference).
    real: bool,
    pending: Option<(usize, usize)>,
}

impl Gen for Priority {
    fn next(&mut self) -> Step {
        let (token, id, from, to) = match self.ranking.lock() {
            Ok(r) => {
                let n = r.ids.len().max(2);
                let from = self.rng.below(n);
                let mut to = self.rng.below(n - 1);
                if to >= from {
                    to += 1;
                }
                (
                    r.token.clone(),
                    r.ids.get(from).cloned().unwrap_or_default(),
                    from,
                    to,
                )
            }
            Err(_) => (String::new(), String::new(), 0, 1),
        };
        self.pending = Some((from, to));
        let body = json!({ "priority": to + 1 });
        Step {
            req: Arc::new(request(
                "POST",
                &format!("{CONFIGS}/{id}/setPriority"),
                &token,
                Some(&body),
            )),
            expect: 204,
        }
    }

    fn done(&mut self, status: u16) {
        if let (true, 204, Some((from, to))) = (self.real, status, self.pending.take()) {
            if let Ok(mut r) = self.ranking.lock() {
                if from < r.ids.len() && to < r.ids.len() {
                    let id = r.ids.remove(from);
                    r.ids.insert(to, id);
                }
            }
        }
    }
}

impl Data {
    /// The generator of connection `conn` for `scenario`; `real` is false for the reference.
    pub fn generator(&self, scenario: Scenario, conn: usize, real: bool) -> Box<dyn Gen> {
        let pick = |reqs: &Vec<Arc<Prepared>>, expect: u16, salt: u64| Pick {
            reqs: reqs.clone(),
            rng: Rng::new(conn as u64 * 7919 + salt),
            expect,
        };
        match scenario {
            Scenario::Get => Box::new(pick(&self.gets, 200, 1)),
            Scenario::List => Box::new(pick(&vec![self.list.clone()], 200, 2)),
            Scenario::CreateConfiguration => Box::new(pick(&self.creates, 201, 3)),
            Scenario::CreateAssignment => Box::new(pick(&self.assignment_creates, 201, 4)),
            Scenario::Assign => Box::new(pick(&self.assigns, 204, 5)),
            Scenario::SetPriority => Box::new(Priority {
                ranking: self.rankings[conn % self.rankings.len()].clone(),
                rng: Rng::new(conn as u64 + 17),
                real,
                pending: None,
            }),
            Scenario::Mix => Box::new(Mix {
                reads: pick(&self.gets, 200, 6),
                writes: pick(&self.mix_writes, 201, 7),
                n: conn as u64 % 10,
            }),
        }
    }
}
