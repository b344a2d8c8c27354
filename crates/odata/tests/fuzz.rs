//! The parser and binder against hostile input: the kept corpus of tricky filters
//! (`tests/corpus/filters.txt`) and property tests with random strings and random token
//! sequences. Nothing may panic, every input must finish fast, and whatever binds must
//! evaluate, sort and project without panicking.
//!
//! The case counts keep the whole file under a few seconds in a debug build; raise them with
//! `PROPTEST_CASES=100000 cargo test -p odata --test fuzz` for a longer run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use odata::query::capabilities::{self as caps, Capabilities};
use odata::query::Options;
use proptest::prelude::*;
use serde_json::{json, Value};

fn models() -> &'static edm::Models {
    static MODELS: OnceLock<edm::Models> = OnceLock::new();
    MODELS.get_or_init(|| edm::Models::load().expect("schemas"))
}

fn items() -> Vec<Value> {
    vec![
        json!({
            "@odata.type": "#microsoft.graph.deviceEnrollmentLimitConfiguration",
            "id": "a_Limit", "displayName": "It's ünïcödé", "description": null, "priority": 2,
            "createdDateTime": "2024-05-01T10:20:30.1234567Z", "lastModifiedDateTime": "0001-01-01T00:00:00Z",
            "version": 1, "roleScopeTagIds": ["0", "12"], "deviceEnrollmentConfigurationType": "limit", "limit": 5,
            "assignments": [{"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "id": "x",
                "target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g"}, "source": "direct", "sourceId": null}]
        }),
        json!({
            "@odata.type": "#microsoft.graph.deviceEnrollmentNotificationConfiguration",
            "id": "b", "displayName": null, "priority": -1, "createdDateTime": "not a date",
            "roleScopeTagIds": null, "deviceEnrollmentConfigurationType": "bogus",
            "brandingOptions": "includeCompanyLogo,includeCompanyName", "notificationMessageTemplateId": "NOT-A-GUID"
        }),
        json!({"@odata.type": "#microsoft.graph.enrollmentConfigurationAssignment", "id": "c", "target": null, "source": 7}),
        json!("not an object"),
    ]
}

const ROOTS: &[(&str, &Capabilities)] = &[
    ("deviceEnrollmentConfiguration", &caps::CONFIGURATIONS),
    ("deviceEnrollmentLimitConfiguration", &caps::CONFIGURATIONS),
    ("enrollmentConfigurationAssignment", &caps::ASSIGNMENTS),
];

/// Parses, binds and (if it binds) runs `text` as every option that takes an expression, on
/// both versions and every collection; returns how long it took.
fn exercise(text: &str) -> Duration {
    let started = Instant::now();
    for model in [&models().beta, &models().v1] {
        for (root, caps) in ROOTS {
            for option in ["$filter", "$orderby", "$select", "$search", "$expand"] {
                let raw = vec![(option.to_owned(), text.to_owned())];
                let Ok(o) = Options::parse(model, caps, root, &raw, 1000) else {
                    continue;
                };
                let page = o.run(items(), 2, None);
                for i in &page.items {
                    let _ = o.project(i);
                }
                if let Some(c) = page.next {
                    let _ = o.run(items(), 2, Some(&c));
                }
                let _ = o.context_selection();
            }
        }
    }
    started.elapsed()
}

/// `\n`, `\t`, `\\` and `\xNN` (a byte, taken as Latin-1 where not ASCII) expanded.
fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) => out.push(char::from(b)),
                    Err(_) => out.push_str(&hex),
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[test]
fn the_corpus_of_tricky_filters_never_panics_and_finishes_fast() {
    let corpus = include_str!("corpus/filters.txt");
    let mut n = 0;
    for line in corpus
        .lines()
        .filter(|l| !l.starts_with('#') || l.len() < 3)
    {
        let text = unescape(line);
        let took = exercise(&text);
        assert!(
            took < Duration::from_secs(2),
            "{took:?} for {}",
            text.chars().take(80).collect::<String>()
        );
        n += 1;
    }
    assert!(n > 150, "the corpus has {n} inputs");
}

#[test]
fn limits_hold_for_the_corpus_extremes() {
    let model = &models().beta;
    let deep = format!("{}true{}", "(".repeat(3000), ")".repeat(3000));
    let raw = vec![("$filter".to_owned(), deep)];
    let e = Options::parse(
        model,
        &caps::CONFIGURATIONS,
        "deviceEnrollmentConfiguration",
        &raw,
        1000,
    )
    .err()
    .map(|e| e.0)
    .unwrap_or_default();
    assert!(e.contains("nested more than 32 levels"), "{e}");
}

/// Pieces of the expression language, valid and not, to build token sequences from.
const VOCABULARY: &[&str] = &[
    "displayName",
    "description",
    "priority",
    "id",
    "createdDateTime",
    "roleScopeTagIds",
    "deviceEnrollmentConfigurationType",
    "limit",
    "target",
    "groupId",
    "source",
    "assignments",
    "microsoft.graph.deviceEnrollmentLimitConfiguration",
    "microsoft.graph.groupAssignmentTarget",
    "microsoft.graph.deviceEnrollmentNotificationConfiguration",
    "brandingOptions",
    "microsoft.graph.deviceEnrollmentConfigurationType'limit'",
    "$it",
    "$count",
    "t",
    "u",
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "has",
    "in",
    "and",
    "or",
    "not",
    "asc",
    "desc",
    "any",
    "all",
    "(",
    ")",
    ",",
    "/",
    ":",
    "*",
    ";",
    "=",
    "$select=id",
    "$top=1",
    "$filter=",
    "startswith",
    "endswith",
    "contains",
    "tolower",
    "toupper",
    "length",
    "isof",
    "substring",
    "indexof",
    "concat",
    "trim",
    "year",
    "'x'",
    "'it''s'",
    "''",
    "'",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1.5",
    "1e3",
    "2024-01-01",
    "2024-01-01T00:00:00Z",
    "0f6d5ee9-2a3b-4c1d-9e8f-7a6b5c4d3e2f",
    "'WindowsRestore'",
    "'includeCompanyLogo'",
    "\"phrase\"",
    "AND",
    "OR",
    "NOT",
    "displayName:",
    "%",
    "é",
    "\u{1F600}",
];

fn token_sequence() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(VOCABULARY), 0..40),
        prop::collection::vec(prop::bool::ANY, 40),
    )
        .prop_map(|(toks, spaces)| {
            let mut s = String::new();
            for (i, t) in toks.iter().enumerate() {
                if i > 0 && spaces[i % spaces.len()] {
                    s.push(' ');
                }
                s.push_str(t);
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1500,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_strings_never_panic(s in "\\PC{0,120}") {
        prop_assert!(exercise(&s) < Duration::from_secs(2));
    }

    #[test]
    fn random_ascii_soup_never_panics(s in "[ -~]{0,120}") {
        prop_assert!(exercise(&s) < Duration::from_secs(2));
    }

    #[test]
    fn random_token_sequences_never_panic(s in token_sequence()) {
        prop_assert!(exercise(&s) < Duration::from_secs(2));
    }
}
