//! Role `endpoints`: one target per address and port of an Endpoints
//! object, enriched with its service and the pods behind it, plus one
//! target per container port of those pods that no endpoint port covers;
//! group `endpoints/<namespace>/<name>`.

use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, Endpoints, Pod};
use model::{Labels, LabelsBuilder};

use super::meta::{self, join_host_port, NAMESPACE, PREFIX};
use super::pod;
use super::Ctx;
use crate::TargetGroup;

/// The pods met among one object's addresses, in order of appearance, with
/// the ports they were met on.
#[derive(Default)]
pub(crate) struct SeenPods<'a> {
    pods: Vec<(&'a Pod, Vec<i32>)>,
}

impl<'a> SeenPods<'a> {
    /// Adds the labels of `pod` (and of the container that declares `port`)
    /// to `t`, and remembers `port` as covered.
    pub(crate) fn add(
        &mut self,
        t: &mut LabelsBuilder,
        p: &'a Pod,
        port: Option<i32>,
        protocol: Option<&str>,
        cx: &Ctx<'_>,
    ) {
        let key = meta::key(&p.metadata);
        let i = match self
            .pods
            .iter()
            .position(|(q, _)| meta::key(&q.metadata) == key)
        {
            Some(i) => i,
            None => {
                self.pods.push((p, Vec::new()));
                self.pods.len() - 1
            }
        };
        pod::pod_labels(t, p, cx);
        if let Some(port) = port {
            'found: for (c, init) in pod::containers(p) {
                for cp in c.ports.iter().flatten() {
                    if cp.container_port == port {
                        pod::container_labels(t, c, init);
                        let proto = protocol.or(cp.protocol.as_deref());
                        pod::port_labels(t, cp.name.as_deref(), port, proto);
                        break 'found;
                    }
                }
            }
            self.pods[i].1.push(port);
        }
    }

    /// Targets for the container ports of the seen pods that no endpoint
    /// port covered (pods without an IP give none).
    pub(crate) fn uncovered_targets(&self, cx: &Ctx<'_>, out: &mut Vec<Labels>) {
        for (p, covered) in &self.pods {
            let ip = pod::pod_ip(p);
            if ip.is_empty() {
                continue;
            }
            for (c, init) in pod::containers(p) {
                for cp in c.ports.iter().flatten() {
                    if covered.contains(&cp.container_port) {
                        continue;
                    }
                    let mut t = LabelsBuilder::new();
                    t.set("__address__", &join_host_port(ip, cp.container_port));
                    pod::container_labels(&mut t, c, init);
                    pod::port_labels(
                        &mut t,
                        cp.name.as_deref(),
                        cp.container_port,
                        cp.protocol.as_deref(),
                    );
                    pod::pod_labels(&mut t, p, cx);
                    out.push(t.build());
                }
            }
        }
    }
}

/// The pod an address refers to, when it refers to a known pod.
pub(crate) fn resolve_pod<'a>(
    cx: &Ctx<'a>,
    r: Option<&k8s_openapi::api::core::v1::ObjectReference>,
) -> Option<&'a Pod> {
    let r = r?;
    if r.kind.as_deref() != Some("Pod") {
        return None;
    }
    cx.stores.pod(&format!(
        "{}/{}",
        r.namespace.as_deref().unwrap_or(""),
        r.name.as_deref().unwrap_or("")
    ))
}

/// The group of `eps`.
pub(crate) fn build(eps: &Endpoints, cx: &Ctx<'_>) -> TargetGroup {
    let key = meta::key(&eps.metadata);
    let ns = meta::namespace(&eps.metadata);
    let mut b = LabelsBuilder::new();
    b.set(NAMESPACE, ns);
    if let Some(svc) = cx.stores.service(&key) {
        super::service::service_labels(&mut b, svc);
    }
    meta::object_labels(&mut b, &eps.metadata, "endpoints");
    cx.namespace_labels(&mut b, ns);

    let mut seen = SeenPods::default();
    let mut targets = Vec::new();
    let mut add = |addr: &EndpointAddress, port: &EndpointPort, ready: &str| {
        let mut t = LabelsBuilder::new();
        t.set("__address__", &join_host_port(&addr.ip, port.port));
        t.set(
            &format!("{PREFIX}endpoint_port_name"),
            port.name.as_deref().unwrap_or(""),
        );
        t.set(
            &format!("{PREFIX}endpoint_port_protocol"),
            port.protocol.as_deref().unwrap_or(""),
        );
        t.set(&format!("{PREFIX}endpoint_ready"), ready);
        if let Some(r) = &addr.target_ref {
            t.set(
                &format!("{PREFIX}endpoint_address_target_kind"),
                r.kind.as_deref().unwrap_or(""),
            );
            t.set(
                &format!("{PREFIX}endpoint_address_target_name"),
                r.name.as_deref().unwrap_or(""),
            );
        }
        if let Some(n) = &addr.node_name {
            t.set(&format!("{PREFIX}endpoint_node_name"), n);
        }
        if let Some(h) = &addr.hostname {
            t.set(&format!("{PREFIX}endpoint_hostname"), h);
        }
        if cx.attach.node {
            let node = addr.node_name.as_deref().or_else(|| {
                addr.target_ref
                    .as_ref()
                    .filter(|r| r.kind.as_deref() == Some("Node"))
                    .and_then(|r| r.name.as_deref())
            });
            cx.node_labels(&mut t, node);
        }
        if let Some(p) = resolve_pod(cx, addr.target_ref.as_ref()) {
            seen.add(&mut t, p, Some(port.port), port.protocol.as_deref(), cx);
        }
        targets.push(t.build());
    };
    for ss in eps.subsets.iter().flatten() {
        for port in ss.ports.iter().flatten() {
            for addr in ss.addresses.iter().flatten() {
                add(addr, port, "true");
            }
            for addr in ss.not_ready_addresses.iter().flatten() {
                add(addr, port, "false");
            }
        }
    }
    seen.uncovered_targets(cx, &mut targets);
    TargetGroup {
        source: format!("endpoints/{key}"),
        targets,
        labels: b.build(),
    }
}

/// Whether `r` refers to the pod `pod_key` (`namespace/name`).
pub(crate) fn is_pod_ref(r: &k8s_openapi::api::core::v1::ObjectReference, pod_key: &str) -> bool {
    let (ns, name) = pod_key.split_once('/').unwrap_or(("", pod_key));
    r.kind.as_deref() == Some("Pod")
        && r.namespace.as_deref().unwrap_or("") == ns
        && r.name.as_deref().unwrap_or("") == name
}

/// Whether `eps` must be rebuilt when the pod `pod_key` changes.
pub(crate) fn refers_to_pod(eps: &Endpoints, pod_key: &str) -> bool {
    eps.subsets.iter().flatten().any(|ss| {
        ss.addresses
            .iter()
            .flatten()
            .chain(ss.not_ready_addresses.iter().flatten())
            .any(|a| {
                a.target_ref
                    .as_ref()
                    .is_some_and(|r| is_pod_ref(r, pod_key))
            })
    })
}

/// Whether `eps` has an address on the node `node`.
pub(crate) fn refers_to_node(eps: &Endpoints, node: &str) -> bool {
    eps.subsets.iter().flatten().any(|ss| {
        ss.addresses
            .iter()
            .flatten()
            .chain(ss.not_ready_addresses.iter().flatten())
            .any(|a| {
                a.node_name.as_deref() == Some(node)
                    || a.target_ref.as_ref().is_some_and(|r| {
                        r.kind.as_deref() == Some("Node") && r.name.as_deref() == Some(node)
                    })
            })
    })
}
