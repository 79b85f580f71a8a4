//! A local fake of the Kubernetes API server for the Kubernetes SD tests:
//! list responses (`<Kind>List` with a resourceVersion) and watch streams
//! (one JSON event per line) for any collection path, with the events a
//! test scripts. Included by the `kubernetes*.rs` tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use config::discovery::KubernetesSdConfig;
use discovery::kubernetes::KubernetesDiscovery;
use discovery::{Discoverer, TargetGroup};
use model::Labels;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// The scripted watch batches of one collection, shared by its watches.
type Batches = Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<(Vec<Value>, bool)>>>;

/// What the fake serves for one collection path.
#[derive(Default)]
struct Collection {
    /// The objects a list returns.
    items: Vec<Value>,
    /// Scripted watch batches; a batch marked final ends its watch
    /// response (as after an ERROR event).
    watch_tx: Option<mpsc::UnboundedSender<(Vec<Value>, bool)>>,
    watch_rx: Option<Batches>,
}

/// Every request path the fake saw, with its query.
#[derive(Default)]
struct Inner {
    collections: HashMap<String, Collection>,
    requests: Vec<String>,
    /// The Authorization header of each request ("" when absent).
    authorizations: Vec<String>,
}

/// The fake API server; dropped with the test's runtime.
#[derive(Clone, Default)]
pub struct FakeApi {
    inner: Arc<Mutex<Inner>>,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl FakeApi {
    /// Starts the fake on a loopback port.
    pub async fn start() -> FakeApi {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeApi {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ..FakeApi::default()
        };
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    fn with<R>(&self, path: &str, f: impl FnOnce(&mut Collection) -> R) -> R {
        let mut inner = self.inner.lock().unwrap();
        let c = inner.collections.entry(path.to_owned()).or_default();
        if c.watch_tx.is_none() {
            let (tx, rx) = mpsc::unbounded_channel();
            c.watch_tx = Some(tx);
            c.watch_rx = Some(Arc::new(tokio::sync::Mutex::new(rx)));
        }
        f(c)
    }

    /// Sets what a list of `path` returns.
    pub fn set_items(&self, path: &str, items: Vec<Value>) {
        self.with(path, |c| c.items = items);
    }

    /// Sends watch events (`{"type": …, "object": …}`) on `path`'s watch.
    pub fn events(&self, path: &str, events: Vec<Value>) {
        self.with(path, |c| {
            c.watch_tx.as_ref().unwrap().send((events, false)).unwrap()
        });
    }

    /// Ends the current watch of `path` with a 410 Gone ERROR event, as an
    /// API server does when the watched resourceVersion is too old.
    pub fn gone(&self, path: &str) {
        let status = json!({"type": "ERROR", "object": {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "too old resource version: 1 (5)", "reason": "Expired", "code": 410}});
        self.with(path, |c| {
            c.watch_tx
                .as_ref()
                .unwrap()
                .send((vec![status], true))
                .unwrap()
        });
    }

    /// The Authorization headers seen so far.
    pub fn authorizations(&self) -> Vec<String> {
        self.inner.lock().unwrap().authorizations.clone()
    }

    /// The requests seen so far (`path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.inner.lock().unwrap().requests.clone()
    }
}

/// The `kind` of a collection's list from its path (`…/pods` → `PodList`).
fn list_kind(path: &str) -> String {
    let last = path.rsplit('/').next().unwrap_or("");
    let singular = match last {
        "endpoints" => "Endpoints",
        "endpointslices" => "EndpointSlice",
        "ingresses" => "Ingress",
        "pods" => "Pod",
        "services" => "Service",
        "nodes" => "Node",
        "namespaces" => "Namespace",
        other => other,
    };
    format!("{singular}List")
}

async fn handle(State(fake): State<FakeApi>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    {
        let mut inner = fake.inner.lock().unwrap();
        inner.requests.push(format!("{path}?{query}"));
        let auth = headers
            .get("authorization")
            .map_or("", |v| v.to_str().unwrap_or(""));
        inner.authorizations.push(auth.to_owned());
    }
    let watch = query
        .split('&')
        .any(|kv| kv == "watch=true" || kv == "watch=1");
    if !watch {
        let items = fake.with(&path, |c| c.items.clone());
        let body = json!({
            "kind": list_kind(&path), "apiVersion": "v1",
            "metadata": {"resourceVersion": "5"},
            "items": items,
        });
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
    }
    let rx = fake.with(&path, |c| c.watch_rx.clone().unwrap());
    // One line per event; the response stays open until a final batch.
    let stream = futures::stream::unfold((rx, false), |(rx, done)| async move {
        if done {
            return None;
        }
        let next = rx.lock().await.recv().await;
        let (events, last) = next?;
        let mut text = String::new();
        for e in events {
            text.push_str(&e.to_string());
            text.push('\n');
        }
        Some((Ok::<_, std::io::Error>(text), (rx, last)))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// Starts discovery for `config` (its `api_server` pointing at the fake).
pub fn start(config: &KubernetesSdConfig) -> mpsc::Receiver<Vec<TargetGroup>> {
    start_task(config).0
}

/// [`start`], also returning the discovery's task.
pub fn start_task(
    config: &KubernetesSdConfig,
) -> (
    mpsc::Receiver<Vec<TargetGroup>>,
    tokio::task::JoinHandle<()>,
) {
    let d = KubernetesDiscovery::new(config).expect("discovery starts");
    let (tx, rx) = mpsc::channel(16);
    let task = tokio::spawn(Box::new(d).run(tx));
    (rx, task)
}

/// A config for `role` against `fake`.
pub fn config(fake: &FakeApi, role: &str) -> KubernetesSdConfig {
    KubernetesSdConfig {
        api_server: Some(config::GoUrl::parse(&fake.url).unwrap()),
        role: role.into(),
        ..KubernetesSdConfig::default()
    }
}

/// The next update, within a second.
pub async fn next(rx: &mut mpsc::Receiver<Vec<TargetGroup>>) -> Vec<TargetGroup> {
    tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("an update within a second")
        .expect("discovery still running")
}

/// Asserts no update comes within 200 ms.
pub async fn quiet(rx: &mut mpsc::Receiver<Vec<TargetGroup>>) {
    if let Ok(u) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
        panic!("unexpected update: {u:?}");
    }
}

/// A label set from pairs.
pub fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

/// A watch event.
pub fn ev(kind: &str, object: &Value) -> Value {
    json!({"type": kind, "object": object})
}
