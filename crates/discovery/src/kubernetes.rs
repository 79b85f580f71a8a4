//! Kubernetes service discovery (`kubernetes_sd_configs`): list-and-watch
//! of the API server through kube's watcher, targets and
//! `__meta_kubernetes_*` labels as Prometheus sets them for the roles
//! `node`, `pod`, `service`, `endpoints`, `endpointslice` and `ingress`.
//!
//! One task keeps a local copy of every watched kind (the role's own
//! objects, plus services and pods for the endpoints roles, nodes and
//! namespaces for `attach_metadata`). Each batch of watch events rebuilds
//! the groups of the role's objects it touched, directly or through an
//! object they draw labels from, and sends them; a deleted object's group
//! is sent empty. Sources are `<kind>/<namespace>/<name>` (`node/<name>`,
//! `svc/…` for services) as in Prometheus.
//!
//! ```no_run
//! use discovery::kubernetes::KubernetesDiscovery;
//! use discovery::Discoverer;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut sd = config::discovery::KubernetesSdConfig::default();
//! sd.role = "pod".into();
//! sd.api_server = Some(config::GoUrl::parse("https://k8s.example:6443")?);
//! let (tx, mut rx) = tokio::sync::mpsc::channel(8);
//! tokio::spawn(Box::new(KubernetesDiscovery::new(&sd)?).run(tx));
//! while let Some(groups) = rx.recv().await {
//!     for g in groups {
//!         println!("{}: {} targets", g.source, g.targets.len());
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use config::discovery::{KubernetesAttachMetadata, KubernetesSdConfig, KubernetesSelector};
use futures::{FutureExt, StreamExt};
use model::LabelsBuilder;
use tokio::sync::mpsc;

use crate::{Discoverer, DiscoveryFuture, TargetGroup};

mod client;
mod endpoints;
mod endpointslice;
mod ingress;
mod meta;
mod node;
mod pod;
mod service;
mod store;
mod watch;

use store::{Kind, Stores};

/// Why a Kubernetes discovery cannot start.
#[derive(Debug, thiserror::Error)]
pub enum KubernetesError {
    /// `role` is not one Prometheus knows.
    #[error("cannot start Kubernetes SD: unknown role {0:?}")]
    Role(String),
    /// `api_server` is not a URL the client accepts.
    #[error("cannot use Kubernetes api_server {url:?}: {reason}")]
    ApiServer {
        /// The URL as configured.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The kubeconfig file cannot be read or used.
    #[error("cannot use kubeconfig file {path:?}: {reason}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Not running in a pod, and neither `api_server` nor a kubeconfig given.
    #[error("cannot load in-cluster Kubernetes configuration: {0}")]
    InCluster(String),
    /// `own_namespace` was asked for but the pod's namespace is unknown.
    #[error("cannot determine the pod's own namespace: {0}")]
    OwnNamespace(String),
    /// The HTTP client settings cannot be applied.
    #[error("cannot apply Kubernetes SD HTTP client settings: {0}")]
    HttpSettings(String),
    /// The API client cannot be built.
    #[error("cannot create Kubernetes API client: {0}")]
    Client(String),
}

/// The kinds of object a Kubernetes discovery turns into targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Node,
    Pod,
    Service,
    Endpoints,
    EndpointSlice,
    Ingress,
}

impl Role {
    fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "node" => Role::Node,
            "pod" => Role::Pod,
            "service" => Role::Service,
            "endpoints" => Role::Endpoints,
            "endpointslice" => Role::EndpointSlice,
            "ingress" => Role::Ingress,
            _ => return None,
        })
    }

    /// The name used in `role:` and `selectors[].role`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::Node => "node",
            Role::Pod => "pod",
            Role::Service => "service",
            Role::Endpoints => "endpoints",
            Role::EndpointSlice => "endpointslice",
            Role::Ingress => "ingress",
        }
    }

    fn kind(self) -> Kind {
        match self {
            Role::Node => Kind::Node,
            Role::Pod => Kind::Pod,
            Role::Service => Kind::Service,
            Role::Endpoints => Kind::Endpoints,
            Role::EndpointSlice => Kind::EndpointSlice,
            Role::Ingress => Kind::Ingress,
        }
    }

    /// The prefix of group sources, before the object's key.
    fn source_prefix(self) -> &'static str {
        match self {
            Role::Node => "node/",
            Role::Pod => "pod/",
            Role::Service => "svc/",
            Role::Endpoints => "endpoints/",
            Role::EndpointSlice => "endpointslice/",
            Role::Ingress => "ingress/",
        }
    }
}

/// A Kubernetes SD provider; see the module docs.
pub struct KubernetesDiscovery {
    source: client::ApiSource,
    plan: Plan,
}

/// What one discovery watches and how it turns objects into groups.
pub(crate) struct Plan {
    role: Role,
    /// The namespaces to watch; empty means all.
    namespaces: Vec<String>,
    selectors: Vec<KubernetesSelector>,
    attach: KubernetesAttachMetadata,
}

impl KubernetesDiscovery {
    /// Prepares discovery for `c` (a validated config): the API server from
    /// `api_server` and its HTTP client settings, else `kubeconfig_file`,
    /// else the in-cluster service account, as Prometheus picks. Nothing is
    /// contacted before [`Discoverer::run`].
    pub fn new(c: &KubernetesSdConfig) -> Result<Self, KubernetesError> {
        let role = Role::parse(&c.role).ok_or_else(|| KubernetesError::Role(c.role.clone()))?;
        let (source, own) = client::ApiSource::new(c)?;
        let mut namespaces = c.namespaces.names.clone();
        if c.namespaces.own_namespace && !own.is_empty() {
            namespaces.push(own);
        }
        Ok(KubernetesDiscovery {
            source,
            plan: Plan {
                role,
                namespaces,
                selectors: c.selectors.clone(),
                attach: c.attach_metadata.clone(),
            },
        })
    }
}

impl Plan {
    /// The key of every object of the role.
    fn primary_keys(&self, s: &Stores) -> Vec<String> {
        fn keys<K>(v: &[store::Shard<K>]) -> Vec<String> {
            store::all(v).map(|(k, _)| k.clone()).collect()
        }
        match self.role {
            Role::Node => keys(&s.nodes),
            Role::Pod => keys(&s.pods),
            Role::Service => keys(&s.services),
            Role::Endpoints => keys(&s.endpoints),
            Role::EndpointSlice => keys(&s.slices),
            Role::Ingress => keys(&s.ingresses),
        }
    }

    /// The group of the role's object `key`: built when it exists, empty
    /// when it is gone; `None` when Prometheus would send nothing.
    fn group(&self, key: &str, s: &Stores) -> Option<TargetGroup> {
        let cx = Ctx {
            stores: s,
            attach: &self.attach,
        };
        let built = match self.role {
            Role::Node => s.node(key).map(node::build),
            Role::Pod => s.pod(key).map(|o| Some(pod::build(o, &cx))),
            Role::Service => s.service(key).map(|o| Some(service::build(o, &cx))),
            Role::Endpoints => s.endpoints(key).map(|o| Some(endpoints::build(o, &cx))),
            Role::EndpointSlice => s.slice(key).map(|o| Some(endpointslice::build(o, &cx))),
            Role::Ingress => s.ingress(key).map(|o| Some(ingress::build(o, &cx))),
        };
        match built {
            Some(g) => g,
            None => Some(TargetGroup {
                source: format!("{}{key}", self.role.source_prefix()),
                ..TargetGroup::default()
            }),
        }
    }

    /// The role's objects whose groups depend on the object `key` of
    /// another kind.
    fn dependents(&self, s: &Stores, kind: Kind, key: &str, out: &mut Vec<String>) {
        if let Kind::ReplicaSet | Kind::Job = kind {
            // Through the pods the owner controls.
            let owner = if kind == Kind::Job {
                "Job"
            } else {
                "ReplicaSet"
            };
            let pods: Vec<&String> = store::all(&s.pods)
                .filter(|(_, p)| pod::owned_by(p, owner, key))
                .map(|(k, _)| k)
                .collect();
            for p in pods {
                if self.role == Role::Pod {
                    out.push(p.clone());
                } else {
                    self.dependents(s, Kind::Pod, p, out);
                }
            }
            return;
        }
        fn matching<K>(v: &[store::Shard<K>], out: &mut Vec<String>, f: impl Fn(&K) -> bool) {
            out.extend(store::all(v).filter(|(_, o)| f(o)).map(|(k, _)| k.clone()));
        }
        match (self.role, kind) {
            // Every namespaced object's key starts with its namespace.
            (_, Kind::Namespace) => out.extend(
                self.primary_keys(s)
                    .into_iter()
                    .filter(|k| k.split_once('/').is_some_and(|(ns, _)| ns == key)),
            ),
            (Role::Pod, Kind::Node) => matching(&s.pods, out, |p| pod::node_name(p) == key),
            (Role::Endpoints, Kind::Service) => out.push(key.to_owned()),
            (Role::Endpoints, Kind::Pod) => {
                matching(&s.endpoints, out, |e| endpoints::refers_to_pod(e, key))
            }
            (Role::Endpoints, Kind::Node) => {
                matching(&s.endpoints, out, |e| endpoints::refers_to_node(e, key))
            }
            (Role::EndpointSlice, Kind::Service) => matching(&s.slices, out, |e| {
                endpointslice::service_key(e).as_deref() == Some(key)
            }),
            (Role::EndpointSlice, Kind::Pod) => matching(&s.slices, out, |e| {
                endpointslice::refers_to(e, Some(key), None)
            }),
            (Role::EndpointSlice, Kind::Node) => matching(&s.slices, out, |e| {
                endpointslice::refers_to(e, None, Some(key))
            }),
            _ => {}
        }
    }

    /// The groups to send after the objects in `touched` changed.
    fn changed_groups(&self, s: &Stores, touched: &[(Kind, String)]) -> Vec<TargetGroup> {
        let primary = self.role.kind();
        let mut keys = Vec::new();
        for (kind, key) in touched {
            if *kind == primary {
                keys.push(key.clone());
            } else {
                self.dependents(s, *kind, key, &mut keys);
            }
        }
        keys.sort();
        keys.dedup();
        keys.iter().filter_map(|k| self.group(k, s)).collect()
    }
}

/// What the label builders of every role read: the local copy of the
/// objects and which metadata to attach.
pub(crate) struct Ctx<'a> {
    stores: &'a Stores,
    attach: &'a KubernetesAttachMetadata,
}

impl Ctx<'_> {
    /// With `attach_metadata.node`: the name and labels of the node `name`.
    fn node_labels(&self, b: &mut LabelsBuilder, name: Option<&str>) {
        if let Some(n) = name.and_then(|n| self.stores.node(n)) {
            meta::object_labels(b, &n.metadata, "node");
        }
    }

    /// With `attach_metadata.namespace`: the namespace's labels and
    /// annotations.
    fn namespace_labels(&self, b: &mut LabelsBuilder, ns: &str) {
        if !self.attach.namespace {
            return;
        }
        if let Some(n) = self.stores.namespace(ns) {
            meta::labels_and_annotations(b, &n.metadata, "namespace");
        }
    }
}

impl Discoverer for KubernetesDiscovery {
    fn run(self: Box<Self>, tx: mpsc::Sender<Vec<TargetGroup>>) -> DiscoveryFuture {
        Box::pin(async move {
            if let Err(e) = run(*self, tx).await {
                tracing::error!(error = %e, "Kubernetes SD stopped");
            }
        })
    }
}

async fn run(
    d: KubernetesDiscovery,
    tx: mpsc::Sender<Vec<TargetGroup>>,
) -> Result<(), KubernetesError> {
    let KubernetesDiscovery { source, plan } = d;
    let cfg = source.config().await?;
    let client = kube::Client::try_from(cfg).map_err(|e| KubernetesError::Client(e.to_string()))?;
    let mut stores = Stores::default();
    let mut events = plan.streams(&client, &mut stores);
    let mut touched = Vec::new();
    let mut started = false;
    loop {
        let first = tokio::select! {
            u = events.next() => u,
            () = tx.closed() => return Ok(()),
        };
        let Some(first) = first else { return Ok(()) };
        stores.apply(first, &mut touched);
        // Take every event already waiting, so a burst becomes one send.
        while let Some(Some(u)) = events.next().now_or_never() {
            stores.apply(u, &mut touched);
        }
        if !stores.synced() {
            continue;
        }
        let groups = if started {
            plan.changed_groups(&stores, &touched)
        } else {
            // The first send is the complete view, even when empty.
            let mut keys = plan.primary_keys(&stores);
            keys.sort();
            keys.iter().filter_map(|k| plan.group(k, &stores)).collect()
        };
        touched.clear();
        if started && groups.is_empty() {
            continue;
        }
        started = true;
        if tx.send(groups).await.is_err() {
            return Ok(());
        }
    }
}
