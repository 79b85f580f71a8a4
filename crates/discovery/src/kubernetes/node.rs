//! Role `node`: one target per node, its kubelet at the node's preferred
//! address; group `node/<name>`.

use k8s_openapi::api::core::v1::Node;
use model::LabelsBuilder;

use super::meta::{self, join_host_port, sanitize, PREFIX};
use crate::TargetGroup;

/// Address types in the order Prometheus prefers them for `__address__`.
const PREFERENCE: &[&str] = &[
    "InternalIP",
    "InternalDNS",
    "ExternalIP",
    "ExternalDNS",
    "LegacyHostIP",
    "Hostname",
];

/// The node's address of the most preferred type present.
fn preferred_address(node: &Node) -> Option<&str> {
    let addrs = node.status.as_ref()?.addresses.as_deref()?;
    PREFERENCE.iter().find_map(|ty| {
        addrs
            .iter()
            .find(|a| a.type_ == *ty)
            .map(|a| a.address.as_str())
    })
}

/// The group of `node`; `None` when the node has no usable address
/// (Prometheus then sends nothing for it).
pub(crate) fn build(node: &Node) -> Option<TargetGroup> {
    let name = node.metadata.name.as_deref().unwrap_or("");
    let addr = preferred_address(node)?;
    let status = node.status.as_ref();
    let mut b = LabelsBuilder::new();
    b.set(
        &format!("{PREFIX}node_provider_id"),
        node.spec
            .as_ref()
            .and_then(|s| s.provider_id.as_deref())
            .unwrap_or(""),
    );
    for c in status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
    {
        b.set(
            &format!(
                "{PREFIX}node_condition_{}",
                sanitize(&c.type_.to_lowercase())
            ),
            &c.status.to_lowercase(),
        );
    }
    meta::object_labels(&mut b, &node.metadata, "node");
    let labels = b.build();

    let port = status
        .and_then(|s| s.daemon_endpoints.as_ref())
        .and_then(|d| d.kubelet_endpoint.as_ref())
        .map_or(0, |k| k.port);
    let mut t = LabelsBuilder::new();
    t.set("__address__", &join_host_port(addr, port));
    t.set("instance", name);
    // The first address of each type, as Prometheus keeps.
    for a in status
        .and_then(|s| s.addresses.as_deref())
        .unwrap_or_default()
        .iter()
        .rev()
    {
        t.set(
            &sanitize(&format!("{PREFIX}node_address_{}", a.type_)),
            &a.address,
        );
    }
    Some(TargetGroup {
        source: format!("node/{name}"),
        targets: vec![t.build()],
        labels,
    })
}
