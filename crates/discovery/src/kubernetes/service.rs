//! Role `service`: one target per service port at the service's cluster
//! DNS name; group `svc/<namespace>/<name>`.

use k8s_openapi::api::core::v1::Service;
use model::LabelsBuilder;

use super::meta::{self, join_host_port, NAMESPACE, PREFIX};
use super::Ctx;
use crate::TargetGroup;

/// The labels of a service, also attached to endpoints and endpoint slices
/// of the service.
pub(crate) fn service_labels(b: &mut LabelsBuilder, svc: &Service) {
    b.set(NAMESPACE, meta::namespace(&svc.metadata));
    meta::object_labels(b, &svc.metadata, "service");
}

/// Load-balancer IPs from the status, comma-joined; the deprecated
/// `spec.loadBalancerIP` when the status has none.
fn load_balancer_ips(svc: &Service) -> String {
    let ips: Vec<&str> = svc
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.ip.as_deref().filter(|ip| !ip.is_empty()))
        .collect();
    if ips.is_empty() {
        svc.spec
            .as_ref()
            .and_then(|s| s.load_balancer_ip.clone())
            .unwrap_or_default()
    } else {
        ips.join(",")
    }
}

/// The group of `svc`.
pub(crate) fn build(svc: &Service, cx: &Ctx<'_>) -> TargetGroup {
    let mut b = LabelsBuilder::new();
    service_labels(&mut b, svc);
    let ns = meta::namespace(&svc.metadata);
    cx.namespace_labels(&mut b, ns);
    let name = svc.metadata.name.as_deref().unwrap_or("");
    let spec = svc.spec.as_ref();
    let ty = spec.and_then(|s| s.type_.as_deref()).unwrap_or("");
    let mut targets = Vec::new();
    for port in spec.and_then(|s| s.ports.as_deref()).unwrap_or_default() {
        let mut t = LabelsBuilder::new();
        t.set(
            "__address__",
            &join_host_port(&format!("{name}.{ns}.svc"), port.port),
        );
        t.set(
            &format!("{PREFIX}service_port_name"),
            port.name.as_deref().unwrap_or(""),
        );
        t.set(
            &format!("{PREFIX}service_port_number"),
            &port.port.to_string(),
        );
        t.set(
            &format!("{PREFIX}service_port_protocol"),
            port.protocol.as_deref().unwrap_or(""),
        );
        t.set(&format!("{PREFIX}service_type"), ty);
        if ty == "ExternalName" {
            t.set(
                &format!("{PREFIX}service_external_name"),
                spec.and_then(|s| s.external_name.as_deref()).unwrap_or(""),
            );
        } else {
            t.set(
                &format!("{PREFIX}service_cluster_ip"),
                spec.and_then(|s| s.cluster_ip.as_deref()).unwrap_or(""),
            );
        }
        if ty == "LoadBalancer" {
            t.set(
                &format!("{PREFIX}service_loadbalancer_ip"),
                &load_balancer_ips(svc),
            );
        }
        targets.push(t.build());
    }
    TargetGroup {
        source: format!("svc/{}", meta::key(&svc.metadata)),
        targets,
        labels: b.build(),
    }
}
