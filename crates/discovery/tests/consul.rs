//! Consul SD against a local fake of Consul's HTTP API: `/v1/agent/self`,
//! the catalog's service list and `/v1/health/service/<name>` as blocking
//! queries that answer when the index moves.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use config::discovery::ConsulSdConfig;
use discovery::consul::ConsulDiscovery;
use discovery::{Discoverer, TargetGroup};
use model::Labels;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};

/// Query parameters in order.
type QueryPairs = Vec<(String, String)>;

/// The fake's data: health entries by service, in Consul's JSON shape.
#[derive(Default)]
struct Data {
    index: u64,
    services: BTreeMap<String, Vec<Value>>,
    /// Path, query and `X-Consul-Token` of every request.
    requests: Vec<(String, QueryPairs, Option<String>)>,
}

#[derive(Clone, Default)]
struct Fake {
    data: Arc<Mutex<Data>>,
    changed: Arc<Notify>,
    url: String,
}

type Params = Query<Vec<(String, String)>>;

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

impl Fake {
    async fn start() -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            url: listener.local_addr().unwrap().to_string(),
            ..Fake::default()
        };
        let app = axum::Router::new()
            .route("/v1/agent/self", get(agent_self))
            .route("/v1/catalog/services", get(catalog_services))
            .route("/v1/health/service/{name}", get(health_service))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    /// Changes the data and moves the index to `index` (which may go back).
    fn update(&self, index: u64, f: impl FnOnce(&mut BTreeMap<String, Vec<Value>>)) {
        let mut d = self.data.lock().unwrap();
        f(&mut d.services);
        d.index = index;
        drop(d);
        self.changed.notify_waiters();
    }

    fn record(&self, path: &str, q: &[(String, String)], h: &HeaderMap) {
        let token = h
            .get("X-Consul-Token")
            .map(|v| v.to_str().unwrap().to_owned());
        self.data
            .lock()
            .unwrap()
            .requests
            .push((path.to_owned(), q.to_vec(), token));
    }

    fn requests(&self, path: &str) -> Vec<(QueryPairs, Option<String>)> {
        let d = self.data.lock().unwrap();
        d.requests
            .iter()
            .filter(|r| r.0 == path)
            .map(|r| (r.1.clone(), r.2.clone()))
            .collect()
    }

    /// Holds a blocking query until the index differs from the client's.
    async fn block(&self, q: &[(String, String)]) -> u64 {
        let Some(wanted) = param(q, "index").and_then(|i| i.parse::<u64>().ok()) else {
            return self.data.lock().unwrap().index;
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let notified = self.changed.notified();
            let now = self.data.lock().unwrap().index;
            if now != wanted {
                return now;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return now;
            }
        }
    }
}

fn indexed(index: u64, body: Value) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut().insert(
        "X-Consul-Index",
        HeaderValue::from_str(&index.to_string()).unwrap(),
    );
    r
}

/// Whether a health entry's node carries every `node-meta=k:v` asked for.
fn node_meta_ok(e: &Value, q: &[(String, String)]) -> bool {
    q.iter().filter(|(k, _)| k == "node-meta").all(|(_, kv)| {
        let (k, v) = kv.split_once(':').unwrap();
        e["Node"]["Meta"][k] == json!(v)
    })
}

async fn agent_self(State(f): State<Fake>, Query(q): Params, h: HeaderMap) -> Response {
    f.record("/v1/agent/self", &q, &h);
    Json(
        json!({"Config": {"Datacenter": "dc1", "NodeName": "agent-1", "Server": true},
                "Member": {"Name": "agent-1", "Addr": "127.0.0.1"}}),
    )
    .into_response()
}

async fn catalog_services(State(f): State<Fake>, Query(q): Params, h: HeaderMap) -> Response {
    f.record("/v1/catalog/services", &q, &h);
    let index = f.block(&q).await;
    let d = f.data.lock().unwrap();
    let mut out = serde_json::Map::new();
    for (name, entries) in &d.services {
        let nodes: Vec<&Value> = entries.iter().filter(|e| node_meta_ok(e, &q)).collect();
        if nodes.is_empty() && !entries.is_empty() {
            continue;
        }
        let mut tags: Vec<Value> = Vec::new();
        for e in &nodes {
            for t in e["Service"]["Tags"].as_array().into_iter().flatten() {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
        }
        out.insert(name.clone(), Value::Array(tags));
    }
    indexed(index, Value::Object(out))
}

async fn health_service(
    State(f): State<Fake>,
    Path(name): Path<String>,
    Query(q): Params,
    h: HeaderMap,
) -> Response {
    f.record(&format!("/v1/health/service/{name}"), &q, &h);
    let index = f.block(&q).await;
    let d = f.data.lock().unwrap();
    let wanted_tags: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| v.as_str())
        .collect();
    let entries: Vec<Value> = d
        .services
        .get(&name)
        .into_iter()
        .flatten()
        .filter(|e| node_meta_ok(e, &q))
        .filter(|e| {
            wanted_tags
                .iter()
                .all(|t| e["Service"]["Tags"].as_array().unwrap().contains(&json!(t)))
        })
        .cloned()
        .collect();
    indexed(index, Value::Array(entries))
}

/// A health entry as `/v1/health/service/<name>` returns it.
fn entry(
    (service, id): (&str, &str),
    (node, node_addr): (&str, &str),
    svc_addr: &str,
    port: u16,
    tags: &[&str],
    status: &str,
) -> Value {
    json!({
        "Node": {
            "ID": format!("{node}-id"), "Node": node, "Address": node_addr, "Datacenter": "dc1",
            "TaggedAddresses": {"lan": node_addr, "wan": "198.51.100.1"},
            "Meta": {"rack": "r1", "consul-network-segment": ""},
            "CreateIndex": 5, "ModifyIndex": 5
        },
        "Service": {
            "ID": id, "Service": service, "Tags": tags, "Address": svc_addr,
            "Meta": {"version": "1.2"}, "Port": port,
            "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": false,
            "Namespace": "default", "Partition": "default",
            "CreateIndex": 6, "ModifyIndex": 6
        },
        "Checks": [
            {"Node": node, "CheckID": "serfHealth", "Name": "Serf Health Status", "Status": "passing",
             "ServiceID": "", "ServiceName": ""},
            {"Node": node, "CheckID": format!("service:{id}"), "Name": "http", "Status": status,
             "ServiceID": id, "ServiceName": service}
        ]
    })
}

fn config(fake: &Fake) -> ConsulSdConfig {
    ConsulSdConfig {
        server: fake.url.clone(),
        refresh_interval: Duration::from_millis(20),
        ..ConsulSdConfig::default()
    }
}

fn start(c: &ConsulSdConfig) -> mpsc::Receiver<Vec<TargetGroup>> {
    start_task(c).0
}

fn start_task(
    c: &ConsulSdConfig,
) -> (
    mpsc::Receiver<Vec<TargetGroup>>,
    tokio::task::JoinHandle<()>,
) {
    let d = ConsulDiscovery::new(c).unwrap();
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(Box::new(d).run(tx));
    (rx, task)
}

async fn next(rx: &mut mpsc::Receiver<Vec<TargetGroup>>) -> Vec<TargetGroup> {
    tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("an update within a second")
        .expect("discovery running")
}

/// The next group `want` accepts (the fake's index is global, so other
/// services' watchers may send their unchanged groups meanwhile); fails
/// when none comes within a second of the previous update.
async fn next_of(
    rx: &mut mpsc::Receiver<Vec<TargetGroup>>,
    want: impl Fn(&TargetGroup) -> bool,
) -> TargetGroup {
    loop {
        if let Some(g) = next(rx).await.into_iter().find(&want) {
            return g;
        }
    }
}

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

#[tokio::test]
async fn catalog_services_come_and_go_with_tag_filter() {
    let fake = Fake::start().await;
    fake.update(10, |s| {
        s.insert(
            "web".into(),
            vec![entry(
                ("web", "web-1"),
                ("n1", "10.0.0.1"),
                "",
                8080,
                &["prod", "v1"],
                "passing",
            )],
        );
        s.insert(
            "db".into(),
            vec![entry(
                ("db", "db-1"),
                ("n2", "10.0.0.2"),
                "10.9.0.2",
                5432,
                &["staging"],
                "passing",
            )],
        );
    });
    let mut c = config(&fake);
    c.tags = vec!["prod".into()];
    c.token = config::Secret::new("s3cret");
    let mut rx = start(&c);

    let first = next(&mut rx).await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].source, "web");
    assert_eq!(
        first[0].labels,
        ls(&[
            ("__meta_consul_service", "web"),
            ("__meta_consul_dc", "dc1")
        ])
    );
    assert_eq!(
        first[0].targets,
        [ls(&[
            // No service address: the node's address.
            ("__address__", "10.0.0.1:8080"),
            ("__meta_consul_address", "10.0.0.1"),
            ("__meta_consul_node", "n1"),
            ("__meta_consul_namespace", "default"),
            ("__meta_consul_partition", "default"),
            ("__meta_consul_tags", ",prod,v1,"),
            ("__meta_consul_service_port", "8080"),
            ("__meta_consul_service_id", "web-1"),
            ("__meta_consul_health", "passing"),
            ("__meta_consul_metadata_rack", "r1"),
            ("__meta_consul_service_metadata_version", "1.2"),
            ("__meta_consul_tagged_address_lan", "10.0.0.1"),
            ("__meta_consul_tagged_address_wan", "198.51.100.1"),
        ])]
    );

    // A new matching service: its group, once the catalog's index moves.
    fake.update(11, |s| {
        s.insert(
            "api".into(),
            vec![entry(
                ("api", "api-1"),
                ("n3", "10.0.0.3"),
                "10.9.0.3",
                80,
                &["prod"],
                "critical",
            )],
        );
    });
    let api = next_of(&mut rx, |g| g.source == "api").await;
    assert_eq!(api.targets[0].get("__address__"), Some("10.9.0.3:80"));
    assert_eq!(
        api.targets[0].get("__meta_consul_service_address"),
        Some("10.9.0.3")
    );
    assert_eq!(api.targets[0].get("__meta_consul_health"), Some("critical"));

    // web leaves the catalog: an empty group (from its own watcher or from
    // the catalog's, whichever sees the new index first).
    fake.update(12, |s| {
        s.remove("web");
    });
    next_of(&mut rx, |g| g.source == "web" && g.targets.is_empty()).await;

    let catalog = fake.requests("/v1/catalog/services");
    let (q, token) = &catalog[1];
    assert_eq!(param(q, "index"), Some("10"));
    assert_eq!(param(q, "wait"), Some("120000ms"));
    assert_eq!(param(q, "stale"), Some(""));
    assert_eq!(token.as_deref(), Some("s3cret"));
    assert!(fake
        .requests("/v1/health/service/web")
        .iter()
        .all(|(q, _)| param(q, "tag") == Some("prod")));
    assert!(fake.requests("/v1/health/service/db").is_empty());
}

#[tokio::test]
async fn named_services_follow_health_index_and_reset_when_it_goes_back() {
    let fake = Fake::start().await;
    fake.update(100, |s| {
        s.insert(
            "web".into(),
            vec![entry(
                ("web", "web-1"),
                ("n1", "10.0.0.1"),
                "",
                80,
                &[],
                "passing",
            )],
        );
    });
    let mut c = config(&fake);
    c.services = vec!["web".into()];
    c.datacenter = "east".into();
    c.allow_stale = false;
    c.tag_separator = "|".into();
    let mut rx = start(&c);
    let first = next(&mut rx).await;
    assert_eq!(first[0].labels.get("__meta_consul_dc"), Some("east"));
    assert_eq!(first[0].targets[0].get("__meta_consul_tags"), Some("||"));

    fake.update(101, |s| {
        s.get_mut("web").unwrap().push(entry(
            ("web", "web-2"),
            ("n2", "10.0.0.2"),
            "",
            80,
            &["a", "b"],
            "warning",
        ));
    });
    let u = next(&mut rx).await;
    assert_eq!(u[0].targets.len(), 2);
    assert_eq!(u[0].targets[1].get("__meta_consul_tags"), Some("|a|b|"));
    assert_eq!(u[0].targets[1].get("__meta_consul_health"), Some("warning"));

    // The index goes back (a restored server): the change still arrives,
    // and the next query starts again from index 0.
    fake.update(7, |s| {
        s.get_mut("web").unwrap().pop();
    });
    let u = next(&mut rx).await;
    assert_eq!(u[0].targets.len(), 1);
    tokio::time::sleep(Duration::from_millis(60)).await;
    let reqs = fake.requests("/v1/health/service/web");
    assert!(
        reqs.iter()
            .any(|(q, _)| param(q, "index").is_none() && param(q, "wait").is_some()),
        "{reqs:?}"
    );
    assert!(reqs
        .iter()
        .all(|(q, _)| param(q, "dc") == Some("east") && param(q, "stale").is_none()));
    // No catalog watch for an explicit list, and no agent lookup with a datacenter.
    assert!(fake.requests("/v1/catalog/services").is_empty());
    assert!(fake.requests("/v1/agent/self").is_empty());
}

#[tokio::test]
async fn node_meta_and_filter_reach_consul() {
    let fake = Fake::start().await;
    let mut other = entry(("web", "web-9"), ("n9", "10.0.0.9"), "", 80, &[], "passing");
    other["Node"]["Meta"] = json!({"rack": "r2"});
    fake.update(3, |s| {
        s.insert(
            "web".into(),
            vec![
                entry(("web", "web-1"), ("n1", "10.0.0.1"), "", 80, &[], "passing"),
                other,
            ],
        );
    });
    let mut c = config(&fake);
    c.node_meta = [("rack".to_owned(), "r1".to_owned())].into();
    c.filter = "Service.Port == 80".into();
    c.health_filter = "Checks.Status == passing".into();
    let mut rx = start(&c);
    let first = next(&mut rx).await;
    assert_eq!(first[0].targets.len(), 1);
    assert_eq!(first[0].targets[0].get("__meta_consul_node"), Some("n1"));
    let (q, _) = &fake.requests("/v1/catalog/services")[0];
    assert_eq!(param(q, "node-meta"), Some("rack:r1"));
    assert_eq!(param(q, "filter"), Some("Service.Port == 80"));
    let (q, _) = &fake.requests("/v1/health/service/web")[0];
    assert_eq!(param(q, "node-meta"), Some("rack:r1"));
    assert_eq!(param(q, "filter"), Some("Checks.Status == passing"));
}

#[tokio::test]
async fn stops_with_its_watchers_when_the_receiver_is_dropped() {
    let fake = Fake::start().await;
    fake.update(1, |s| {
        s.insert(
            "web".into(),
            vec![entry(
                ("web", "web-1"),
                ("n1", "10.0.0.1"),
                "",
                80,
                &[],
                "passing",
            )],
        );
    });
    let (mut rx, task) = start_task(&config(&fake));
    assert_eq!(next(&mut rx).await.len(), 1);
    // Let the service watcher start its blocking query.
    tokio::time::sleep(Duration::from_millis(60)).await;
    drop(rx);
    tokio::time::timeout(Duration::from_secs(1), task)
        .await
        .expect("discovery stops within a second")
        .unwrap();
    // No watcher left: an index change brings no more queries.
    let before = fake.requests("/v1/health/service/web").len();
    fake.update(2, |_| {});
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.requests("/v1/health/service/web").len(), before);
}

#[tokio::test]
async fn the_manager_runs_consul_sd_configs_from_prometheus_yml() {
    use discovery::{DiscoveryManager, ManagerOptions};

    let fake = Fake::start().await;
    fake.update(4, |s| {
        s.insert(
            "web".into(),
            vec![entry(
                ("web", "web-1"),
                ("n1", "10.0.0.1"),
                "",
                80,
                &[],
                "passing",
            )],
        );
    });
    let yaml = format!(
        "scrape_configs:\n- job_name: web\n  consul_sd_configs:\n  - server: '{}'\n    services: [web]\n",
        fake.url
    );
    let jobs = config::load_str(&yaml, "prometheus.yml")
        .unwrap()
        .scrape_configs
        .into_iter()
        .map(|s| (s.job_name, s.service_discovery))
        .collect();
    let (m, mut rx) = DiscoveryManager::new(ManagerOptions {
        update_interval: Duration::from_millis(50),
        ..ManagerOptions::default()
    });
    let m = Arc::new(m);
    m.apply_config(jobs).await.unwrap();
    tokio::spawn({
        let m = Arc::clone(&m);
        async move { m.run(std::future::pending()).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let got = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the service's group within two seconds")
            .unwrap();
        let groups = got.get("web").cloned().unwrap_or_default();
        if let Some(g) = groups.iter().find(|g| g.source == "web") {
            assert_eq!(g.targets[0].get("__address__"), Some("10.0.0.1:80"));
            assert_eq!(g.labels.get("__meta_consul_dc"), Some("dc1"));
            break;
        }
    }
}
