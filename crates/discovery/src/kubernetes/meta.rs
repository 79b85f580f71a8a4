//! Label helpers every role shares: object names, labels and annotations
//! (with their `…present_…` twins), namespace and node metadata.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use model::LabelsBuilder;

/// Prefix of every label Kubernetes SD sets.
pub(crate) const PREFIX: &str = "__meta_kubernetes_";
/// `__meta_kubernetes_namespace`.
pub(crate) const NAMESPACE: &str = "__meta_kubernetes_namespace";

/// A label name with every character outside `[a-zA-Z0-9_]` replaced by
/// `_`, as Prometheus sanitizes Kubernetes label and annotation keys.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Sets `__meta_kubernetes_<resource>_label_<k>`, `…_labelpresent_<k>`,
/// `…_annotation_<k>` and `…_annotationpresent_<k>`.
pub(crate) fn labels_and_annotations(b: &mut LabelsBuilder, meta: &ObjectMeta, resource: &str) {
    for (kind, map) in [("label", &meta.labels), ("annotation", &meta.annotations)] {
        for (k, v) in map.iter().flatten() {
            let k = sanitize(k);
            b.set(&format!("{PREFIX}{resource}_{kind}_{k}"), v);
            b.set(&format!("{PREFIX}{resource}_{kind}present_{k}"), "true");
        }
    }
}

/// [`labels_and_annotations`] plus `__meta_kubernetes_<role>_name`.
pub(crate) fn object_labels(b: &mut LabelsBuilder, meta: &ObjectMeta, role: &str) {
    b.set(
        &format!("{PREFIX}{role}_name"),
        meta.name.as_deref().unwrap_or(""),
    );
    labels_and_annotations(b, meta, role);
}

/// The store key of an object: `namespace/name`, or `name` for
/// cluster-scoped objects.
pub(crate) fn key(meta: &ObjectMeta) -> String {
    let name = meta.name.as_deref().unwrap_or("");
    match meta.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_owned(),
    }
}

/// The namespace of an object ("" when cluster-scoped).
pub(crate) fn namespace(meta: &ObjectMeta) -> &str {
    meta.namespace.as_deref().unwrap_or("")
}

/// The owner reference marked as controller, if any.
pub(crate) fn controller(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
}

/// `host:port`, with brackets around IPv6 hosts as Go's `JoinHostPort`.
pub(crate) fn join_host_port(host: &str, port: impl std::fmt::Display) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_names_and_addresses() {
        assert_eq!(sanitize("app.kubernetes.io/name"), "app_kubernetes_io_name");
        assert_eq!(join_host_port("10.0.0.1", 80), "10.0.0.1:80");
        assert_eq!(join_host_port("fd00::1", 80), "[fd00::1]:80");
        let meta = ObjectMeta {
            name: Some("a".into()),
            namespace: Some("ns".into()),
            labels: Some([("app.k/x".to_owned(), "v".to_owned())].into()),
            ..Default::default()
        };
        assert_eq!(key(&meta), "ns/a");
        let mut b = LabelsBuilder::new();
        object_labels(&mut b, &meta, "pod");
        assert_eq!(
            b.build().to_string(),
            r#"{__meta_kubernetes_pod_label_app_k_x="v", __meta_kubernetes_pod_labelpresent_app_k_x="true", __meta_kubernetes_pod_name="a"}"#
        );
    }
}
