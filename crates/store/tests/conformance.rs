//! The storage conformance suite: the contract of `domain::store`, run against the backend
//! named by `ENROLLGRAPH_TEST_BACKEND` (`sqlite`, the default, or `postgres` with
//! `ENROLLGRAPH_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use domain::store::{read, write};
use domain::{Assignment, Configuration, DomainError, Store, TenantId};
use serde_json::{json, Map, Value};

struct Fixture {
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

fn open() -> Fixture {
    let dir = tempfile::Builder::new().prefix("egc").tempdir().unwrap();
    let url = match std::env::var("ENROLLGRAPH_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let base = std::env::var("ENROLLGRAPH_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let schema = dir
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap()
                .to_ascii_lowercase()
                .replace(|c: char| !c.is_ascii_alphanumeric(), "_");
            format!("{base}?options=-csearch_path%3Dt_{schema}")
        }
        _ => format!("sqlite://{}", dir.path().join("db.sqlite").display()),
    };
    let store = store::open(&url, &store::Options::default())
        .unwrap_or_else(|e| panic!("THE STORE UNDER TEST CANNOT BE OPENED ({url}): {e}"));
    Fixture { store, _dir: dir }
}

fn tenant(n: u8) -> TenantId {
    TenantId::parse(&format!("{n:08x}-0000-4000-8000-000000000000")).unwrap()
}

fn config(id: &str, ranking: &str, priority: i32) -> Configuration {
    let mut properties = Map::new();
    properties.insert("displayName".into(), json!(id));
    Configuration {
        id: id.into(),
        odata_type: "deviceEnrollmentLimitConfiguration".into(),
        ranking: ranking.into(),
        is_default: false,
        priority,
        version: 1,
        created: "2024-01-01T00:00:00.0000000Z".into(),
        modified: "2024-01-01T00:00:00.0000000Z".into(),
        properties,
    }
}

fn assignment(config: &str, id: &str) -> Assignment {
    let mut properties = Map::new();
    properties.insert(
        "target".into(),
        json!({"@odata.type": "#microsoft.graph.allDevicesAssignmentTarget"}),
    );
    Assignment {
        id: id.into(),
        configuration_id: config.into(),
        properties,
    }
}

#[tokio::test]
async fn writes_are_read_back_exactly_in_creation_order() {
    let f = open();
    let t = tenant(1);
    let (a, b) = (config("b_Limit", "limit", 1), config("a_Limit", "limit", 2));
    let (a2, b2) = (a.clone(), b.clone());
    write(f.store.as_ref(), &t, move |tx| {
        tx.insert_tenant()?;
        tx.insert_configuration(&a2)?;
        tx.insert_configuration(&b2)?;
        tx.insert_assignment(&assignment("b_Limit", "x"))?;
        Ok(())
    })
    .await
    .unwrap();
    let (exists, list, one, assignments) = read(f.store.as_ref(), &t, |tx| {
        Ok((
            tx.tenant_exists()?,
            tx.list_configurations()?,
            tx.get_configuration("a_Limit")?,
            tx.list_assignments("b_Limit")?,
        ))
    })
    .await
    .unwrap();
    assert!(exists);
    assert_eq!(list, vec![a, b.clone()]);
    assert_eq!(one, Some(b));
    assert_eq!(assignments, vec![assignment("b_Limit", "x")]);
    assert_eq!(f.store.tenants().await.unwrap(), vec![t]);
}

#[tokio::test]
async fn another_tenants_items_are_absent() {
    let f = open();
    let (t1, t2) = (tenant(1), tenant(2));
    write(f.store.as_ref(), &t1, |tx| {
        tx.insert_tenant()?;
        tx.insert_configuration(&config("c_Limit", "limit", 1))?;
        Ok(())
    })
    .await
    .unwrap();
    let seen = read(f.store.as_ref(), &t2, |tx| {
        Ok((
            tx.get_configuration("c_Limit")?,
            tx.list_configurations()?.len(),
            tx.tenant_exists()?,
        ))
    })
    .await
    .unwrap();
    assert_eq!(seen, (None, 0, false));
}

#[tokio::test]
async fn a_failed_job_leaves_no_trace() {
    let f = open();
    let t = tenant(3);
    let r: Result<(), DomainError> = write(f.store.as_ref(), &t, |tx| {
        tx.insert_tenant()?;
        tx.insert_configuration(&config("c_Limit", "limit", 1))?;
        Err(DomainError::bad_request("refused"))
    })
    .await;
    assert!(matches!(r, Err(DomainError::BadRequest(_))));
    let n = read(f.store.as_ref(), &t, |tx| {
        Ok(tx.list_configurations()?.len())
    })
    .await
    .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_ranking_refuses_duplicates_but_set_priorities_may_swap() {
    let f = open();
    let t = tenant(4);
    write(f.store.as_ref(), &t, |tx| {
        tx.insert_tenant()?;
        tx.insert_configuration(&config("a", "limit", 1))?;
        tx.insert_configuration(&config("b", "limit", 2))?;
        tx.insert_configuration(&config("c", "other", 1))?;
        Ok(())
    })
    .await
    .unwrap();
    let dup = write(f.store.as_ref(), &t, |tx| {
        tx.insert_configuration(&config("d", "limit", 2))?;
        Ok(())
    })
    .await;
    assert!(
        dup.is_err(),
        "a duplicate priority in one ranking must be refused"
    );
    write(f.store.as_ref(), &t, |tx| {
        tx.set_priorities(&[("a".into(), 2), ("b".into(), 1)])?;
        Ok(())
    })
    .await
    .unwrap();
    let ranking = read(f.store.as_ref(), &t, |tx| Ok(tx.ranking("limit")?))
        .await
        .unwrap();
    assert_eq!(ranking, vec![("b".to_string(), 1), ("a".to_string(), 2)]);
}

#[tokio::test]
async fn deleting_a_configuration_deletes_its_assignments() {
    let f = open();
    let t = tenant(5);
    write(f.store.as_ref(), &t, |tx| {
        tx.insert_tenant()?;
        tx.insert_configuration(&config("a", "limit", 1))?;
        tx.insert_configuration(&config("b", "limit", 2))?;
        tx.insert_assignment(&assignment("a", "1"))?;
        tx.insert_assignment(&assignment("b", "2"))?;
        Ok(())
    })
    .await
    .unwrap();
    let deleted = write(f.store.as_ref(), &t, |tx| Ok(tx.delete_configuration("a")?))
        .await
        .unwrap();
    assert!(deleted);
    let left = read(f.store.as_ref(), &t, |tx| {
        Ok(tx.list_assignments_of(&["a".to_string(), "b".to_string()])?)
    })
    .await
    .unwrap();
    assert_eq!(left, vec![assignment("b", "2")]);
}

#[tokio::test]
async fn updates_replace_and_assignment_deletes_report_absence() {
    let f = open();
    let t = tenant(6);
    write(f.store.as_ref(), &t, |tx| {
        tx.insert_tenant()?;
        tx.insert_configuration(&config("a", "limit", 1))?;
        tx.insert_assignment(&assignment("a", "1"))?;
        Ok(())
    })
    .await
    .unwrap();
    let mut changed = config("a", "limit", 1);
    changed.version = 2;
    changed.properties.insert("limit".into(), Value::from(7));
    let mut changed_a = assignment("a", "1");
    changed_a
        .properties
        .insert("source".into(), json!("policySets"));
    let (c2, a2) = (changed.clone(), changed_a.clone());
    let gone = write(f.store.as_ref(), &t, move |tx| {
        tx.update_configuration(&c2)?;
        tx.update_assignment(&a2)?;
        Ok(tx.delete_assignment("a", "nope")?)
    })
    .await
    .unwrap();
    assert!(!gone);
    let back = read(f.store.as_ref(), &t, |tx| {
        Ok((tx.get_configuration("a")?, tx.get_assignment("a", "1")?))
    })
    .await
    .unwrap();
    assert_eq!(back, (Some(changed), Some(changed_a)));
}

#[tokio::test]
async fn concurrent_writers_of_one_tenant_are_serialised() {
    let f = open();
    let t = tenant(7);
    write(f.store.as_ref(), &t, |tx| {
        tx.insert_tenant().map_err(Into::into)
    })
    .await
    .unwrap();
    // Each job appends at the end of the ranking; serialisation means no job sees a stale end.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let store = f.store.clone();
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            write(store.as_ref(), &t, move |tx| {
                let next = tx.ranking("limit")?.last().map_or(0, |(_, p)| *p) + 1;
                tx.insert_configuration(&config(&format!("c{i}"), "limit", next))?;
                Ok(())
            })
            .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let ranking = read(f.store.as_ref(), &t, |tx| Ok(tx.ranking("limit")?))
        .await
        .unwrap();
    let priorities: Vec<i32> = ranking.iter().map(|(_, p)| *p).collect();
    assert_eq!(priorities, (1..=24).collect::<Vec<_>>());
}

/// Every page of every seek equals the meaning [`Seek::apply`] gives it over the whole tenant:
/// orders, name conditions, type lists, positions (names shared, missing, non-ASCII).
#[tokio::test]
async fn seeks_read_the_pages_the_whole_list_gives() {
    use domain::{NameMatch, Seek, SeekAfter, SeekOrder};
    let f = open();
    let t = tenant(1);
    let names: [Option<&str>; 9] = [
        None,
        Some(""),
        Some("a"),
        Some("ab"),
        Some("ab"),
        Some("abc"),
        Some("Z"),
        Some("é"),
        Some("a\u{10FFFF}"),
    ];
    let mut all = Vec::new();
    for i in 0..45u32 {
        let mut c = config(
            &format!("{:02x}-{}", (i * 37) % 256, i),
            &format!("r{i}"),
            1,
        );
        match names[(i as usize) % names.len()] {
            Some(n) => c.properties.insert("displayName".into(), json!(n)),
            None => c.properties.remove("displayName"),
        };
        if i % 3 == 0 {
            c.odata_type = "deviceEnrollmentPlatformRestrictionsConfiguration".into();
        }
        all.push(c);
    }
    let rows = all.clone();
    write(f.store.as_ref(), &t, move |tx| {
        tx.insert_tenant()?;
        for c in &rows {
            tx.insert_configuration(c)?;
        }
        Ok(())
    })
    .await
    .unwrap();
    // Another tenant's items never show.
    write(f.store.as_ref(), &tenant(2), |tx| {
        tx.insert_tenant()?;
        Ok(tx.insert_configuration(&config("a", "limit", 1))?)
    })
    .await
    .unwrap();

    let filters = [
        NameMatch::Any,
        NameMatch::Eq("ab".into()),
        NameMatch::Prefix("a".into()),
        NameMatch::Prefix(String::new()),
        NameMatch::Prefix("\u{10FFFF}".into()),
    ];
    let type_lists = [
        None,
        Some(vec!["deviceEnrollmentLimitConfiguration".to_owned()]),
    ];
    for order in [SeekOrder::Id, SeekOrder::NameAsc, SeekOrder::NameDesc] {
        for name in &filters {
            for types in &type_lists {
                for limit in [1usize, 4, 100] {
                    let mut seek = Seek {
                        types: types.clone(),
                        name: name.clone(),
                        order,
                        after: None,
                        limit,
                    };
                    let mut pages = 0;
                    loop {
                        let want = seek.apply(all.clone());
                        let s = seek.clone();
                        let got = read(f.store.as_ref(), &t, move |tx| {
                            Ok(tx.seek_configurations(&s)?)
                        })
                        .await
                        .unwrap();
                        let ids = |v: &[Configuration]| {
                            v.iter().map(|c| c.id.clone()).collect::<Vec<_>>()
                        };
                        assert_eq!(ids(&got), ids(&want), "{seek:?}");
                        let Some(last) = got.last() else { break };
                        seek.after = Some(SeekAfter {
                            name: last
                                .properties
                                .get("displayName")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                            id: last.id.clone(),
                        });
                        pages += 1;
                        assert!(pages <= 50, "{seek:?} does not end");
                    }
                }
            }
        }
    }
}
