//! Role `pod`: one target per declared container port of each pod with an
//! IP, one port-less target per container that declares none; group
//! `pod/<namespace>/<name>`.

use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use model::{Labels, LabelsBuilder};

use super::meta::{self, join_host_port, NAMESPACE, PREFIX};
use super::Ctx;
use crate::TargetGroup;

const CONTAINER_NAME: &str = "__meta_kubernetes_pod_container_name";
const CONTAINER_ID: &str = "__meta_kubernetes_pod_container_id";
const CONTAINER_IMAGE: &str = "__meta_kubernetes_pod_container_image";
const CONTAINER_INIT: &str = "__meta_kubernetes_pod_container_init";
const PORT_NAME: &str = "__meta_kubernetes_pod_container_port_name";
const PORT_NUMBER: &str = "__meta_kubernetes_pod_container_port_number";
const PORT_PROTOCOL: &str = "__meta_kubernetes_pod_container_port_protocol";

/// The pod's containers then its init containers, each with whether it is
/// an init container (the order Prometheus emits targets in).
pub(crate) fn containers(pod: &Pod) -> impl Iterator<Item = (&Container, bool)> {
    let spec = pod.spec.as_ref();
    let main = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let init = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default();
    main.iter()
        .map(|c| (c, false))
        .chain(init.iter().map(|c| (c, true)))
}

/// The pod's IP ("" while it has none).
pub(crate) fn pod_ip(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.pod_ip.as_deref())
        .unwrap_or("")
}

/// Whether the pod's controller is the `kind` object `key`
/// (`namespace/name`).
pub(crate) fn owned_by(pod: &Pod, kind: &str, key: &str) -> bool {
    meta::controller(&pod.metadata).is_some_and(|o| {
        o.kind == kind && format!("{}/{}", meta::namespace(&pod.metadata), o.name) == key
    })
}

/// The node a pod is scheduled on ("" when unscheduled).
pub(crate) fn node_name(pod: &Pod) -> &str {
    pod.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

/// The labels describing a pod, shared by roles pod, endpoints and
/// endpointslice.
pub(crate) fn pod_labels(b: &mut LabelsBuilder, pod: &Pod, cx: &Ctx<'_>) {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
    let host_ip = status.and_then(|s| s.host_ip.as_deref()).unwrap_or("");
    b.set(&format!("{PREFIX}pod_ip"), pod_ip(pod));
    b.set(&format!("{PREFIX}pod_ready"), &ready(pod));
    b.set(&format!("{PREFIX}pod_phase"), phase);
    b.set(&format!("{PREFIX}pod_node_name"), node_name(pod));
    b.set(&format!("{PREFIX}pod_host_ip"), host_ip);
    b.set(
        &format!("{PREFIX}pod_uid"),
        pod.metadata.uid.as_deref().unwrap_or(""),
    );
    meta::object_labels(b, &pod.metadata, "pod");
    if let Some(owner) = meta::controller(&pod.metadata) {
        b.set(&format!("{PREFIX}pod_controller_kind"), &owner.kind);
        b.set(&format!("{PREFIX}pod_controller_name"), &owner.name);
        let ns = meta::namespace(&pod.metadata);
        let owner_key = format!("{ns}/{}", owner.name);
        match owner.kind.as_str() {
            "ReplicaSet" if cx.attach.deployment => {
                let deployment = cx
                    .stores
                    .replica_set(&owner_key)
                    .and_then(|rs| meta::controller(&rs.metadata))
                    .filter(|o| o.kind == "Deployment");
                if let Some(d) = deployment {
                    b.set(&format!("{PREFIX}pod_deployment_name"), &d.name);
                }
            }
            "Job" => {
                if cx.attach.job {
                    b.set(&format!("{PREFIX}pod_job_name"), &owner.name);
                }
                let cron = cx
                    .stores
                    .job(&owner_key)
                    .filter(|_| cx.attach.cronjob)
                    .and_then(|j| meta::controller(&j.metadata))
                    .filter(|o| o.kind == "CronJob");
                if let Some(c) = cron {
                    b.set(&format!("{PREFIX}pod_cronjob_name"), &c.name);
                }
            }
            _ => {}
        }
    }
}

/// The status of the pod's `Ready` condition, lower-cased; `unknown`
/// without one.
fn ready(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
        .map_or_else(|| "unknown".to_owned(), |c| c.status.to_lowercase())
}

fn container_id<'a>(statuses: Option<&'a Vec<ContainerStatus>>, name: &str) -> &'a str {
    statuses
        .into_iter()
        .flatten()
        .find(|s| s.name == name)
        .and_then(|s| s.container_id.as_deref())
        .unwrap_or("")
}

/// Sets the container labels of a target.
pub(crate) fn container_labels(b: &mut LabelsBuilder, c: &Container, init: bool) {
    b.set(CONTAINER_NAME, &c.name);
    b.set(CONTAINER_IMAGE, c.image.as_deref().unwrap_or(""));
    b.set(CONTAINER_INIT, if init { "true" } else { "false" });
}

/// Sets the container port labels of a target.
pub(crate) fn port_labels(
    b: &mut LabelsBuilder,
    name: Option<&str>,
    number: i32,
    protocol: Option<&str>,
) {
    b.set(PORT_NAME, name.unwrap_or(""));
    b.set(PORT_NUMBER, &number.to_string());
    b.set(PORT_PROTOCOL, protocol.unwrap_or(""));
}

/// The group of `pod`; empty while the pod has no IP, or when node metadata
/// is wanted and its node is not (yet) known.
pub(crate) fn build(pod: &Pod, cx: &Ctx<'_>) -> TargetGroup {
    let mut tg = TargetGroup {
        source: format!("pod/{}", meta::key(&pod.metadata)),
        ..TargetGroup::default()
    };
    let ip = pod_ip(pod);
    if ip.is_empty() || (cx.attach.node && cx.stores.node(node_name(pod)).is_none()) {
        return tg;
    }
    let mut b = LabelsBuilder::new();
    pod_labels(&mut b, pod, cx);
    b.set(NAMESPACE, meta::namespace(&pod.metadata));
    if cx.attach.node {
        cx.node_labels(&mut b, Some(node_name(pod)));
    }
    cx.namespace_labels(&mut b, meta::namespace(&pod.metadata));
    tg.labels = b.build();

    let status = pod.status.as_ref();
    for (c, init) in containers(pod) {
        let statuses = if init {
            status.and_then(|s| s.init_container_statuses.as_ref())
        } else {
            status.and_then(|s| s.container_statuses.as_ref())
        };
        let id = container_id(statuses, &c.name);
        let ports = c.ports.as_deref().unwrap_or_default();
        let target =
            |address: &str, port: Option<&k8s_openapi::api::core::v1::ContainerPort>| -> Labels {
                let mut t = LabelsBuilder::new();
                t.set("__address__", address);
                container_labels(&mut t, c, init);
                t.set(CONTAINER_ID, id);
                if let Some(p) = port {
                    port_labels(
                        &mut t,
                        p.name.as_deref(),
                        p.container_port,
                        p.protocol.as_deref(),
                    );
                }
                t.build()
            };
        if ports.is_empty() {
            tg.targets.push(target(ip, None));
        }
        for p in ports {
            tg.targets
                .push(target(&join_host_port(ip, p.container_port), Some(p)));
        }
    }
    tg
}
