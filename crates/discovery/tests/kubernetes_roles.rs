//! Kubernetes SD roles `service`, `endpoints`, `endpointslice` and
//! `ingress` against a fake API server, with objects in the API's JSON
//! shapes.

#[path = "kubernetes_fake.rs"]
mod fake;

use fake::{ev, ls, next, FakeApi};
use serde_json::{json, Value};

fn service(ports: Value) -> Value {
    json!({
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "7",
                     "labels": {"team": "a"}, "annotations": {"scrape": "yes"}},
        "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.10", "ports": ports,
                 "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]},
        "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.1"}, {"hostname": "lb.example"}, {"ip": "203.0.113.2"}]}}
    })
}

fn service_labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("__meta_kubernetes_namespace", "shop"),
        ("__meta_kubernetes_service_name", "web"),
        ("__meta_kubernetes_service_label_team", "a"),
        ("__meta_kubernetes_service_labelpresent_team", "true"),
        ("__meta_kubernetes_service_annotation_scrape", "yes"),
        ("__meta_kubernetes_service_annotationpresent_scrape", "true"),
    ]
}

#[tokio::test]
async fn services_one_target_per_port() {
    let api = FakeApi::start().await;
    api.set_items(
        "/api/v1/services",
        vec![service(
            json!([{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]),
        )],
    );
    let mut rx = fake::start(&fake::config(&api, "service"));
    let first = next(&mut rx).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].source, "svc/shop/web");
    assert_eq!(first[0].labels, ls(&service_labels()));
    assert_eq!(
        first[0].targets,
        [ls(&[
            ("__address__", "web.shop.svc:80"),
            ("__meta_kubernetes_service_port_name", "http"),
            ("__meta_kubernetes_service_port_number", "80"),
            ("__meta_kubernetes_service_port_protocol", "TCP"),
            ("__meta_kubernetes_service_type", "LoadBalancer"),
            ("__meta_kubernetes_service_cluster_ip", "10.96.0.10"),
            (
                "__meta_kubernetes_service_loadbalancer_ip",
                "203.0.113.1,203.0.113.2"
            ),
        ])]
    );
    let external = json!({
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "ext", "namespace": "shop", "resourceVersion": "8"},
        "spec": {"type": "ExternalName", "externalName": "db.example.com",
                 "ports": [{"port": 5432, "protocol": "TCP"}]}
    });
    api.events("/api/v1/services", vec![ev("ADDED", &external)]);
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "svc/shop/ext");
    assert_eq!(
        u[0].targets[0].get("__meta_kubernetes_service_external_name"),
        Some("db.example.com")
    );
    assert_eq!(
        u[0].targets[0].get("__meta_kubernetes_service_cluster_ip"),
        None
    );
    api.events("/api/v1/services", vec![ev("DELETED", &external)]);
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "svc/shop/ext");
    assert!(u[0].targets.is_empty());
}

fn backend_pod() -> Value {
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "web-0", "namespace": "shop", "uid": "u0", "resourceVersion": "4"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "app:2", "ports": [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "admin", "containerPort": 9000, "protocol": "TCP"}]}]},
        "status": {"phase": "Running", "podIP": "10.0.0.7", "hostIP": "192.168.0.2",
                   "conditions": [{"type": "Ready", "status": "False"}]}
    })
}

fn pod_labels() -> Vec<(&'static str, &'static str)> {
    vec![
        ("__meta_kubernetes_pod_name", "web-0"),
        ("__meta_kubernetes_pod_ip", "10.0.0.7"),
        ("__meta_kubernetes_pod_ready", "false"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "node-a"),
        ("__meta_kubernetes_pod_host_ip", "192.168.0.2"),
        ("__meta_kubernetes_pod_uid", "u0"),
    ]
}

fn with(
    base: Vec<(&'static str, &'static str)>,
    more: &[(&'static str, &'static str)],
) -> model::Labels {
    let mut v = base;
    v.extend_from_slice(more);
    ls(&v)
}

#[tokio::test]
async fn endpoints_with_service_and_pod_labels() {
    let api = FakeApi::start().await;
    let endpoints = json!({
        "kind": "Endpoints", "apiVersion": "v1",
        "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "9"},
        "subsets": [{
            "addresses": [{"ip": "10.0.0.7", "nodeName": "node-a",
                           "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-0", "uid": "u0"}}],
            "notReadyAddresses": [{"ip": "10.0.0.8", "hostname": "web-1"}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        }]
    });
    api.set_items("/api/v1/endpoints", vec![endpoints]);
    api.set_items(
        "/api/v1/services",
        vec![service(json!([{"name": "http", "port": 80}]))],
    );
    api.set_items("/api/v1/pods", vec![backend_pod()]);
    let mut rx = fake::start(&fake::config(&api, "endpoints"));
    let first = next(&mut rx).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].source, "endpoints/shop/web");
    assert_eq!(
        first[0].labels,
        with(
            service_labels(),
            &[("__meta_kubernetes_endpoints_name", "web")]
        )
    );
    let container = [
        ("__meta_kubernetes_pod_container_name", "app"),
        ("__meta_kubernetes_pod_container_image", "app:2"),
        ("__meta_kubernetes_pod_container_init", "false"),
        ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
    ];
    let mut ready = pod_labels();
    ready.extend_from_slice(&container);
    assert_eq!(
        first[0].targets,
        [
            with(
                ready,
                &[
                    ("__address__", "10.0.0.7:8080"),
                    ("__meta_kubernetes_endpoint_port_name", "http"),
                    ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
                    ("__meta_kubernetes_endpoint_ready", "true"),
                    ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
                    ("__meta_kubernetes_endpoint_address_target_name", "web-0"),
                    ("__meta_kubernetes_endpoint_node_name", "node-a"),
                    ("__meta_kubernetes_pod_container_port_name", "http"),
                    ("__meta_kubernetes_pod_container_port_number", "8080"),
                ]
            ),
            ls(&[
                ("__address__", "10.0.0.8:8080"),
                ("__meta_kubernetes_endpoint_port_name", "http"),
                ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
                ("__meta_kubernetes_endpoint_ready", "false"),
                ("__meta_kubernetes_endpoint_hostname", "web-1"),
            ]),
            // The pod's port no endpoint port covers.
            with(
                {
                    let mut v = pod_labels();
                    v.extend_from_slice(&container);
                    v
                },
                &[
                    ("__address__", "10.0.0.7:9000"),
                    ("__meta_kubernetes_pod_container_port_name", "admin"),
                    ("__meta_kubernetes_pod_container_port_number", "9000"),
                ]
            ),
        ]
    );

    // A change of the service rebuilds its endpoints' group.
    let mut svc = service(json!([]));
    svc["metadata"]["labels"] = json!({"team": "b"});
    api.events("/api/v1/services", vec![ev("MODIFIED", &svc)]);
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "endpoints/shop/web");
    assert_eq!(
        u[0].labels.get("__meta_kubernetes_service_label_team"),
        Some("b")
    );

    // So does a change of a pod behind it.
    let mut pod = backend_pod();
    pod["status"]["phase"] = json!("Failed");
    api.events("/api/v1/pods", vec![ev("MODIFIED", &pod)]);
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "endpoints/shop/web");
    assert_eq!(
        u[0].targets[0].get("__meta_kubernetes_pod_phase"),
        Some("Failed")
    );

    // 410 Gone on the services' watch, and the relist finds the service
    // deleted meanwhile: the endpoints lose its labels.
    api.set_items("/api/v1/services", vec![]);
    api.gone("/api/v1/services");
    let u = next(&mut rx).await;
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].source, "endpoints/shop/web");
    assert_eq!(u[0].labels.get("__meta_kubernetes_service_name"), None);
    assert_eq!(
        u[0].labels.get("__meta_kubernetes_endpoints_name"),
        Some("web")
    );
    assert_eq!(u[0].targets.len(), 3);
}

#[tokio::test]
async fn endpointslices_with_conditions_and_zone() {
    let api = FakeApi::start().await;
    let slice = json!({
        "kind": "EndpointSlice", "apiVersion": "discovery.k8s.io/v1",
        "metadata": {"name": "web-abc", "namespace": "shop", "resourceVersion": "11",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{
            "addresses": ["10.0.0.7"],
            "conditions": {"ready": true, "serving": true, "terminating": false},
            "hostname": "web-0", "nodeName": "node-a", "zone": "eu-1a",
            "targetRef": {"kind": "Pod", "namespace": "shop", "name": "web-0"},
            "deprecatedTopology": {"topology.kubernetes.io/region": "eu"}
        }],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "appProtocol": "http"}]
    });
    api.set_items(
        "/apis/discovery.k8s.io/v1/endpointslices",
        vec![slice.clone()],
    );
    api.set_items(
        "/api/v1/services",
        vec![service(json!([{"name": "http", "port": 80}]))],
    );
    api.set_items("/api/v1/pods", vec![backend_pod()]);
    let mut rx = fake::start(&fake::config(&api, "endpointslice"));
    let first = next(&mut rx).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].source, "endpointslice/shop/web-abc");
    assert_eq!(
        first[0].labels,
        with(
            service_labels(),
            &[
                ("__meta_kubernetes_endpointslice_name", "web-abc"),
                ("__meta_kubernetes_endpointslice_address_type", "IPv4"),
                (
                    "__meta_kubernetes_endpointslice_label_kubernetes_io_service_name",
                    "web"
                ),
                (
                    "__meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name",
                    "true"
                ),
            ]
        )
    );
    let t = &first[0].targets;
    assert_eq!(t.len(), 2, "{t:?}");
    let mut want = pod_labels();
    want.extend_from_slice(&[
        ("__address__", "10.0.0.7:8080"),
        ("__meta_kubernetes_endpointslice_port_name", "http"),
        ("__meta_kubernetes_endpointslice_port_protocol", "TCP"),
        ("__meta_kubernetes_endpointslice_port", "8080"),
        ("__meta_kubernetes_endpointslice_port_app_protocol", "http"),
        ("__meta_kubernetes_endpointslice_endpoint_conditions_ready", "true"),
        ("__meta_kubernetes_endpointslice_endpoint_conditions_serving", "true"),
        ("__meta_kubernetes_endpointslice_endpoint_conditions_terminating", "false"),
        ("__meta_kubernetes_endpointslice_endpoint_hostname", "web-0"),
        ("__meta_kubernetes_endpointslice_endpoint_node_name", "node-a"),
        ("__meta_kubernetes_endpointslice_endpoint_zone", "eu-1a"),
        ("__meta_kubernetes_endpointslice_address_target_kind", "Pod"),
        ("__meta_kubernetes_endpointslice_address_target_name", "web-0"),
        ("__meta_kubernetes_endpointslice_endpoint_topology_topology_kubernetes_io_region", "eu"),
        ("__meta_kubernetes_endpointslice_endpoint_topology_present_topology_kubernetes_io_region", "true"),
        ("__meta_kubernetes_pod_container_name", "app"),
        ("__meta_kubernetes_pod_container_image", "app:2"),
        ("__meta_kubernetes_pod_container_init", "false"),
        ("__meta_kubernetes_pod_container_port_name", "http"),
        ("__meta_kubernetes_pod_container_port_number", "8080"),
        ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
    ]);
    assert_eq!(t[0], ls(&want));
    assert_eq!(t[1].get("__address__"), Some("10.0.0.7:9000"));

    api.events(
        "/apis/discovery.k8s.io/v1/endpointslices",
        vec![ev("DELETED", &slice)],
    );
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "endpointslice/shop/web-abc");
    assert!(u[0].targets.is_empty());
}

#[tokio::test]
async fn ingresses_with_tls_hosts_and_namespace_metadata() {
    let api = FakeApi::start().await;
    let ingress = json!({
        "kind": "Ingress", "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": "front", "namespace": "shop", "resourceVersion": "12"},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": ["*.example.com"], "secretName": "tls"}],
            "rules": [
                {"host": "www.example.com", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}},
                    {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}},
                {"host": "plain.org"}
            ]
        }
    });
    let ns = |team: &str| {
        json!({"kind": "Namespace", "apiVersion": "v1",
               "metadata": {"name": "shop", "resourceVersion": "2", "labels": {"team": team}}})
    };
    api.set_items("/apis/networking.k8s.io/v1/ingresses", vec![ingress]);
    api.set_items("/api/v1/namespaces", vec![ns("a")]);
    let mut c = fake::config(&api, "ingress");
    c.attach_metadata.namespace = true;
    let mut rx = fake::start(&c);
    let first = next(&mut rx).await;
    assert_eq!(first[0].source, "ingress/shop/front");
    assert_eq!(
        first[0].labels,
        ls(&[
            ("__meta_kubernetes_namespace", "shop"),
            ("__meta_kubernetes_ingress_name", "front"),
            ("__meta_kubernetes_ingress_class_name", "nginx"),
            ("__meta_kubernetes_namespace_label_team", "a"),
            ("__meta_kubernetes_namespace_labelpresent_team", "true"),
        ])
    );
    let target = |host: &str, scheme: &str, path: &str| {
        ls(&[
            ("__address__", host),
            ("__meta_kubernetes_ingress_host", host),
            ("__meta_kubernetes_ingress_scheme", scheme),
            ("__meta_kubernetes_ingress_path", path),
        ])
    };
    assert_eq!(
        first[0].targets,
        [
            target("www.example.com", "https", "/"),
            target("www.example.com", "https", "/api"),
            target("plain.org", "http", "/"),
        ]
    );
    api.events("/api/v1/namespaces", vec![ev("MODIFIED", &ns("b"))]);
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "ingress/shop/front");
    assert_eq!(
        u[0].labels.get("__meta_kubernetes_namespace_label_team"),
        Some("b")
    );
}
