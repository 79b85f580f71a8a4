//! The local copy of the watched objects, fed by kube's watcher events the
//! way a reflector keeps its cache: a relist (at start, or after the
//! server answered 410 Gone) is buffered and swapped in whole, so objects
//! that vanished meanwhile are noticed as deleted.

use std::collections::HashMap;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::runtime::watcher::Event;
use kube::Resource;

use super::meta;

/// The kinds of object Kubernetes SD watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Node,
    Pod,
    Service,
    Endpoints,
    EndpointSlice,
    Ingress,
    Namespace,
    ReplicaSet,
    Job,
}

/// One event of one watch stream (a kind in one namespace).
// Updates are applied as they arrive and never stored, so the size of the
// largest object kind costs nothing worth a box per event.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Update {
    Node(usize, Event<Node>),
    Pod(usize, Event<Pod>),
    Service(usize, Event<Service>),
    Endpoints(usize, Event<Endpoints>),
    EndpointSlice(usize, Event<EndpointSlice>),
    Ingress(usize, Event<Ingress>),
    Namespace(usize, Event<Namespace>),
    ReplicaSet(usize, Event<ReplicaSet>),
    Job(usize, Event<Job>),
}

/// The objects of one watch stream, by [`meta::key`].
pub(crate) struct Shard<K> {
    items: HashMap<String, K>,
    /// Objects of a relist in progress.
    relist: Option<HashMap<String, K>>,
    /// Whether the first list completed.
    synced: bool,
}

impl<K> Default for Shard<K> {
    fn default() -> Self {
        Shard {
            items: HashMap::new(),
            relist: None,
            synced: false,
        }
    }
}

impl<K: Resource> Shard<K> {
    /// Applies `ev`, pushing the keys whose object changed onto `touched`.
    fn apply(&mut self, ev: Event<K>, kind: Kind, touched: &mut Vec<(Kind, String)>) {
        match ev {
            Event::Apply(o) => {
                let k = meta::key(o.meta());
                self.items.insert(k.clone(), o);
                touched.push((kind, k));
            }
            Event::Delete(o) => {
                let k = meta::key(o.meta());
                self.items.remove(&k);
                touched.push((kind, k));
            }
            Event::Init => self.relist = Some(HashMap::new()),
            Event::InitApply(o) => {
                let k = meta::key(o.meta());
                self.relist.get_or_insert_with(HashMap::new).insert(k, o);
            }
            Event::InitDone => {
                let fresh = self.relist.take().unwrap_or_default();
                let old = std::mem::replace(&mut self.items, fresh);
                touched.extend(old.into_keys().map(|k| (kind, k)));
                touched.extend(self.items.keys().map(|k| (kind, k.clone())));
                self.synced = true;
            }
        }
    }
}

/// Every watched object, one shard per watch stream.
#[derive(Default)]
pub(crate) struct Stores {
    pub(crate) nodes: Vec<Shard<Node>>,
    pub(crate) pods: Vec<Shard<Pod>>,
    pub(crate) services: Vec<Shard<Service>>,
    pub(crate) endpoints: Vec<Shard<Endpoints>>,
    pub(crate) slices: Vec<Shard<EndpointSlice>>,
    pub(crate) ingresses: Vec<Shard<Ingress>>,
    pub(crate) namespaces: Vec<Shard<Namespace>>,
    pub(crate) replica_sets: Vec<Shard<ReplicaSet>>,
    pub(crate) jobs: Vec<Shard<Job>>,
}

fn find<'a, K>(shards: &'a [Shard<K>], key: &str) -> Option<&'a K> {
    shards.iter().find_map(|s| s.items.get(key))
}

/// Every object of one kind with its key.
pub(crate) fn all<K>(shards: &[Shard<K>]) -> impl Iterator<Item = (&String, &K)> {
    shards.iter().flat_map(|s| s.items.iter())
}

fn synced<K>(shards: &[Shard<K>]) -> bool {
    shards.iter().all(|s| s.synced)
}

impl Stores {
    /// Applies one event; the changed objects are pushed onto `touched`.
    pub(crate) fn apply(&mut self, u: Update, touched: &mut Vec<(Kind, String)>) {
        fn shard<K>(v: &mut [Shard<K>], i: usize) -> &mut Shard<K> {
            let n = v.len();
            v.get_mut(i)
                .unwrap_or_else(|| panic!("BUG: watch stream {i} of {n} has no shard"))
        }
        match u {
            Update::Node(i, e) => shard(&mut self.nodes, i).apply(e, Kind::Node, touched),
            Update::Pod(i, e) => shard(&mut self.pods, i).apply(e, Kind::Pod, touched),
            Update::Service(i, e) => shard(&mut self.services, i).apply(e, Kind::Service, touched),
            Update::Endpoints(i, e) => {
                shard(&mut self.endpoints, i).apply(e, Kind::Endpoints, touched)
            }
            Update::EndpointSlice(i, e) => {
                shard(&mut self.slices, i).apply(e, Kind::EndpointSlice, touched)
            }
            Update::Ingress(i, e) => shard(&mut self.ingresses, i).apply(e, Kind::Ingress, touched),
            Update::Namespace(i, e) => {
                shard(&mut self.namespaces, i).apply(e, Kind::Namespace, touched)
            }
            Update::ReplicaSet(i, e) => {
                shard(&mut self.replica_sets, i).apply(e, Kind::ReplicaSet, touched)
            }
            Update::Job(i, e) => shard(&mut self.jobs, i).apply(e, Kind::Job, touched),
        }
    }

    /// Whether every stream finished its first list.
    pub(crate) fn synced(&self) -> bool {
        synced(&self.nodes)
            && synced(&self.pods)
            && synced(&self.services)
            && synced(&self.endpoints)
            && synced(&self.slices)
            && synced(&self.ingresses)
            && synced(&self.namespaces)
            && synced(&self.replica_sets)
            && synced(&self.jobs)
    }

    /// A node by name.
    pub(crate) fn node(&self, name: &str) -> Option<&Node> {
        find(&self.nodes, name)
    }

    /// A pod by `namespace/name`.
    pub(crate) fn pod(&self, key: &str) -> Option<&Pod> {
        find(&self.pods, key)
    }

    /// A service by `namespace/name`.
    pub(crate) fn service(&self, key: &str) -> Option<&Service> {
        find(&self.services, key)
    }

    /// An endpoints object by `namespace/name`.
    pub(crate) fn endpoints(&self, key: &str) -> Option<&Endpoints> {
        find(&self.endpoints, key)
    }

    /// An endpoint slice by `namespace/name`.
    pub(crate) fn slice(&self, key: &str) -> Option<&EndpointSlice> {
        find(&self.slices, key)
    }

    /// An ingress by `namespace/name`.
    pub(crate) fn ingress(&self, key: &str) -> Option<&Ingress> {
        find(&self.ingresses, key)
    }

    /// A replica set by `namespace/name`.
    pub(crate) fn replica_set(&self, key: &str) -> Option<&ReplicaSet> {
        find(&self.replica_sets, key)
    }

    /// A job by `namespace/name`.
    pub(crate) fn job(&self, key: &str) -> Option<&Job> {
        find(&self.jobs, key)
    }

    /// A namespace by name.
    pub(crate) fn namespace(&self, name: &str) -> Option<&Namespace> {
        find(&self.namespaces, name)
    }
}
