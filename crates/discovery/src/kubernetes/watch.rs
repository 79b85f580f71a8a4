//! The watch streams of one Kubernetes discovery: which kinds it lists and
//! watches, in which namespaces, with which selectors, merged into one
//! stream of [`Update`]s.

use std::fmt::Debug;
use std::time::Duration;

use futures::stream::{BoxStream, SelectAll, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::NamespaceResourceScope;
use kube::runtime::utils::Backoff;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use super::store::{Shard, Stores, Update};
use super::{Plan, Role};

/// Retry delays after a failed list or watch: short at first, so a relist
/// after 410 Gone is quick, doubling up to half a minute.
struct RetryBackoff {
    next: Duration,
}

const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(30);

impl Iterator for RetryBackoff {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = (self.next * 2).min(MAX_RETRY);
        Some(d)
    }
}

impl Backoff for RetryBackoff {
    fn reset(&mut self) {
        self.next = FIRST_RETRY;
    }
}

fn stream<K>(
    api: Api<K>,
    selector: (&str, &str),
    index: usize,
    wrap: fn(usize, Event<K>) -> Update,
) -> BoxStream<'static, Update>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
{
    let (label, field) = selector;
    let mut cfg = watcher::Config::default();
    if !label.is_empty() {
        cfg = cfg.labels(label);
    }
    if !field.is_empty() {
        cfg = cfg.fields(field);
    }
    let kind = K::kind(&Default::default()).into_owned();
    watcher::watcher(api, cfg)
        .backoff(RetryBackoff { next: FIRST_RETRY })
        .filter_map(move |r| {
            let out = match r {
                Ok(ev) => Some(wrap(index, ev)),
                Err(e) => {
                    tracing::warn!(kind = %kind, error = %e, "Kubernetes SD: list or watch failed; retrying");
                    None
                }
            };
            futures::future::ready(out)
        })
        .boxed()
}

/// The streams of one namespaced kind, one per namespace (one over all
/// namespaces when `namespaces` is empty), each with its shard.
fn namespaced<K>(
    client: &Client,
    namespaces: &[String],
    selector: (&str, &str),
    shards: &mut Vec<Shard<K>>,
    wrap: fn(usize, Event<K>) -> Update,
    out: &mut SelectAll<BoxStream<'static, Update>>,
) where
    K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug + Send + 'static,
    K::DynamicType: Default,
{
    let apis: Vec<Api<K>> = if namespaces.is_empty() {
        vec![Api::all(client.clone())]
    } else {
        namespaces
            .iter()
            .map(|ns| Api::namespaced(client.clone(), ns))
            .collect()
    };
    for api in apis {
        out.push(stream(api, selector, shards.len(), wrap));
        shards.push(Shard::default());
    }
}

impl Plan {
    fn selector(&self, role: Role) -> (&str, &str) {
        self.selectors
            .iter()
            .find(|s| s.role == role.name())
            .map_or(("", ""), |s| (s.label.as_str(), s.field.as_str()))
    }

    /// Starts the list-and-watch of every kind the role needs; `stores`
    /// gets one empty shard per stream.
    pub(crate) fn streams(
        &self,
        client: &Client,
        stores: &mut Stores,
    ) -> SelectAll<BoxStream<'static, Update>> {
        let mut out = SelectAll::new();
        let ns = self.namespaces.as_slice();
        let with_node = match self.role {
            Role::Node => true,
            Role::Pod | Role::Endpoints | Role::EndpointSlice => self.attach.node,
            Role::Service | Role::Ingress => false,
        };
        if with_node {
            out.push(stream(
                Api::<Node>::all(client.clone()),
                self.selector(Role::Node),
                0,
                Update::Node,
            ));
            stores.nodes.push(Shard::default());
        }
        if self.attach.namespace && self.role != Role::Node {
            // Namespaces are watched whole, whatever `namespaces` says, as
            // Prometheus does.
            out.push(stream(
                Api::<Namespace>::all(client.clone()),
                ("", ""),
                0,
                Update::Namespace,
            ));
            stores.namespaces.push(Shard::default());
        }
        if matches!(self.role, Role::Pod | Role::Endpoints | Role::EndpointSlice) {
            // Owners of pods, for the deployment, job and cron job names.
            if self.attach.deployment {
                namespaced::<ReplicaSet>(
                    client,
                    ns,
                    ("", ""),
                    &mut stores.replica_sets,
                    Update::ReplicaSet,
                    &mut out,
                );
            }
            if self.attach.job || self.attach.cronjob {
                namespaced::<Job>(
                    client,
                    ns,
                    ("", ""),
                    &mut stores.jobs,
                    Update::Job,
                    &mut out,
                );
            }
        }
        match self.role {
            Role::Node => {}
            Role::Pod => namespaced::<Pod>(
                client,
                ns,
                self.selector(Role::Pod),
                &mut stores.pods,
                Update::Pod,
                &mut out,
            ),
            Role::Service => namespaced::<Service>(
                client,
                ns,
                self.selector(Role::Service),
                &mut stores.services,
                Update::Service,
                &mut out,
            ),
            Role::Ingress => namespaced::<Ingress>(
                client,
                ns,
                self.selector(Role::Ingress),
                &mut stores.ingresses,
                Update::Ingress,
                &mut out,
            ),
            Role::Endpoints | Role::EndpointSlice => {
                if self.role == Role::Endpoints {
                    namespaced::<Endpoints>(
                        client,
                        ns,
                        self.selector(Role::Endpoints),
                        &mut stores.endpoints,
                        Update::Endpoints,
                        &mut out,
                    );
                } else {
                    namespaced::<EndpointSlice>(
                        client,
                        ns,
                        self.selector(Role::EndpointSlice),
                        &mut stores.slices,
                        Update::EndpointSlice,
                        &mut out,
                    );
                }
                namespaced::<Service>(
                    client,
                    ns,
                    self.selector(Role::Service),
                    &mut stores.services,
                    Update::Service,
                    &mut out,
                );
                namespaced::<Pod>(
                    client,
                    ns,
                    self.selector(Role::Pod),
                    &mut stores.pods,
                    Update::Pod,
                    &mut out,
                );
            }
        }
        out
    }
}
