//! Role `endpointslice`: one target per address and port of an
//! EndpointSlice, enriched like role `endpoints`; group
//! `endpointslice/<namespace>/<name>`.

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use model::LabelsBuilder;

use super::endpoints::{is_pod_ref, resolve_pod, SeenPods};
use super::meta::{self, join_host_port, sanitize, NAMESPACE, PREFIX};
use super::Ctx;
use crate::TargetGroup;

/// The label naming a slice's service.
const SERVICE_NAME: &str = "kubernetes.io/service-name";

/// The `namespace/name` of the slice's service, if it names one.
pub(crate) fn service_key(s: &EndpointSlice) -> Option<String> {
    let name = s.metadata.labels.as_ref()?.get(SERVICE_NAME)?;
    Some(format!("{}/{name}", meta::namespace(&s.metadata)))
}

/// Whether a dual-stack service's slice is of its secondary family: its
/// addresses duplicate the primary family's, so it gives no targets.
fn secondary_family(svc: Option<&Service>, s: &EndpointSlice) -> bool {
    let Some(spec) = svc.and_then(|s| s.spec.as_ref()) else {
        return false;
    };
    match spec.ip_family_policy.as_deref() {
        Some("PreferDualStack" | "RequireDualStack") => {}
        _ => return false,
    }
    match spec.ip_families.as_deref().and_then(|f| f.first()) {
        Some(first) => *first != s.address_type,
        None => false,
    }
}

fn flag(t: &mut LabelsBuilder, name: &str, v: Option<bool>) {
    if let Some(v) = v {
        t.set(
            &format!("{PREFIX}endpointslice_endpoint_conditions_{name}"),
            if v { "true" } else { "false" },
        );
    }
}

/// The group of `slice`.
pub(crate) fn build(slice: &EndpointSlice, cx: &Ctx<'_>) -> TargetGroup {
    let key = meta::key(&slice.metadata);
    let ns = meta::namespace(&slice.metadata);
    let mut b = LabelsBuilder::new();
    b.set(NAMESPACE, ns);
    b.set(
        &format!("{PREFIX}endpointslice_address_type"),
        &slice.address_type,
    );
    meta::object_labels(&mut b, &slice.metadata, "endpointslice");
    let svc = service_key(slice).and_then(|k| cx.stores.service(&k));
    if let Some(svc) = svc {
        super::service::service_labels(&mut b, svc);
    }
    cx.namespace_labels(&mut b, ns);
    let mut tg = TargetGroup {
        source: format!("endpointslice/{key}"),
        targets: Vec::new(),
        labels: b.build(),
    };
    if secondary_family(svc, slice) {
        return tg;
    }

    let mut seen = SeenPods::default();
    let mut add = |addr: &str, ep: &Endpoint, port: &EndpointPort| {
        let mut t = LabelsBuilder::new();
        match port.port {
            Some(p) => t.set("__address__", &join_host_port(addr, p)),
            None => t.set("__address__", addr),
        };
        if let Some(n) = &port.name {
            t.set(&format!("{PREFIX}endpointslice_port_name"), n);
        }
        if let Some(p) = &port.protocol {
            t.set(&format!("{PREFIX}endpointslice_port_protocol"), p);
        }
        if let Some(p) = port.port {
            t.set(&format!("{PREFIX}endpointslice_port"), &p.to_string());
        }
        if let Some(p) = &port.app_protocol {
            t.set(&format!("{PREFIX}endpointslice_port_app_protocol"), p);
        }
        if let Some(c) = &ep.conditions {
            flag(&mut t, "ready", c.ready);
            flag(&mut t, "serving", c.serving);
            flag(&mut t, "terminating", c.terminating);
        }
        if let Some(h) = &ep.hostname {
            t.set(&format!("{PREFIX}endpointslice_endpoint_hostname"), h);
        }
        if let Some(r) = &ep.target_ref {
            t.set(
                &format!("{PREFIX}endpointslice_address_target_kind"),
                r.kind.as_deref().unwrap_or(""),
            );
            t.set(
                &format!("{PREFIX}endpointslice_address_target_name"),
                r.name.as_deref().unwrap_or(""),
            );
        }
        if let Some(n) = &ep.node_name {
            t.set(&format!("{PREFIX}endpointslice_endpoint_node_name"), n);
        }
        if let Some(z) = &ep.zone {
            t.set(&format!("{PREFIX}endpointslice_endpoint_zone"), z);
        }
        for (k, v) in ep.deprecated_topology.iter().flatten() {
            let k = sanitize(k);
            t.set(&format!("{PREFIX}endpointslice_endpoint_topology_{k}"), v);
            t.set(
                &format!("{PREFIX}endpointslice_endpoint_topology_present_{k}"),
                "true",
            );
        }
        if cx.attach.node {
            let node_ref = ep
                .target_ref
                .as_ref()
                .filter(|r| r.kind.as_deref() == Some("Node"))
                .and_then(|r| r.name.as_deref());
            cx.node_labels(&mut t, node_ref.or(ep.node_name.as_deref()));
        }
        if let Some(p) = resolve_pod(cx, ep.target_ref.as_ref()) {
            seen.add(&mut t, p, port.port, None, cx);
        }
        tg.targets.push(t.build());
    };
    for ep in &slice.endpoints {
        for port in slice.ports.iter().flatten() {
            for addr in &ep.addresses {
                add(addr, ep, port);
            }
        }
    }
    seen.uncovered_targets(cx, &mut tg.targets);
    tg
}

/// Whether `slice` has an endpoint for the pod `pod_key` or on node `node`.
pub(crate) fn refers_to(slice: &EndpointSlice, pod_key: Option<&str>, node: Option<&str>) -> bool {
    slice.endpoints.iter().any(|ep| {
        let r = ep.target_ref.as_ref();
        let pod_hit = pod_key.is_some_and(|k| r.is_some_and(|r| is_pod_ref(r, k)));
        let node_hit = node.is_some_and(|n| {
            ep.node_name.as_deref() == Some(n)
                || r.is_some_and(|r| {
                    r.kind.as_deref() == Some("Node") && r.name.as_deref() == Some(n)
                })
        });
        pod_hit || node_hit
    })
}
