//! Kubernetes SD roles `pod` and `node` against a fake API server: the
//! first complete view from a list, then watch events (ADDED, MODIFIED,
//! DELETED, BOOKMARK) and a 410 Gone that forces a relist.

#[path = "kubernetes_fake.rs"]
mod fake;

use fake::{ev, ls, next, quiet, FakeApi};
use serde_json::{json, Value};

fn pod(name: &str, ip: Option<&str>) -> Value {
    let mut status = json!({
        "phase": "Running",
        "hostIP": "192.168.1.10",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [{"name": "app", "containerID": "containerd://abc", "ready": true,
                               "restartCount": 0, "image": "app:1", "imageID": ""}],
        "initContainerStatuses": [{"name": "setup", "containerID": "containerd://def", "ready": false,
                                   "restartCount": 0, "image": "busybox", "imageID": ""}]
    });
    if let Some(ip) = ip {
        status["podIP"] = json!(ip);
    }
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "namespace": "default", "uid": format!("uid-{name}"), "resourceVersion": "3",
            "labels": {"app.kubernetes.io/name": "web"},
            "annotations": {"prometheus.io/scrape": "true"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d",
                                 "uid": "rs1", "controller": true}]
        },
        "spec": {
            "nodeName": "node-a",
            "containers": [{"name": "app", "image": "app:1", "ports": [
                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]}],
            "initContainers": [{"name": "setup", "image": "busybox"}]
        },
        "status": status
    })
}

fn pod_group_labels(name: &str, ip: &str) -> model::Labels {
    ls(&[
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_pod_name", name),
        ("__meta_kubernetes_pod_ip", ip),
        ("__meta_kubernetes_pod_ready", "true"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "node-a"),
        ("__meta_kubernetes_pod_host_ip", "192.168.1.10"),
        ("__meta_kubernetes_pod_uid", &format!("uid-{name}")),
        ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "web"),
        (
            "__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape",
            "true",
        ),
        ("__meta_kubernetes_pod_controller_kind", "ReplicaSet"),
        ("__meta_kubernetes_pod_controller_name", "web-5d"),
    ])
}

fn pod_targets(ip: &str) -> Vec<model::Labels> {
    let port = |n: &str, p: &str| {
        ls(&[
            ("__address__", &format!("{ip}:{p}")),
            ("__meta_kubernetes_pod_container_name", "app"),
            ("__meta_kubernetes_pod_container_id", "containerd://abc"),
            ("__meta_kubernetes_pod_container_image", "app:1"),
            ("__meta_kubernetes_pod_container_init", "false"),
            ("__meta_kubernetes_pod_container_port_name", n),
            ("__meta_kubernetes_pod_container_port_number", p),
            ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
        ])
    };
    vec![
        port("http", "8080"),
        port("metrics", "9090"),
        // The init container declares no port: one target at the bare IP.
        ls(&[
            ("__address__", ip),
            ("__meta_kubernetes_pod_container_name", "setup"),
            ("__meta_kubernetes_pod_container_id", "containerd://def"),
            ("__meta_kubernetes_pod_container_image", "busybox"),
            ("__meta_kubernetes_pod_container_init", "true"),
        ]),
    ]
}

#[tokio::test]
async fn pods_list_then_watch_then_relist_after_gone() {
    let api = FakeApi::start().await;
    let path = "/api/v1/pods";
    api.set_items(
        path,
        vec![pod("web-1", Some("10.0.0.1")), pod("web-2", None)],
    );
    let mut rx = fake::start(&fake::config(&api, "pod"));

    // The first update is the complete view; a pod without an IP has an
    // empty group.
    let first = next(&mut rx).await;
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0].source, "pod/default/web-1");
    assert_eq!(first[0].labels, pod_group_labels("web-1", "10.0.0.1"));
    assert_eq!(first[0].targets, pod_targets("10.0.0.1"));
    assert_eq!(first[1].source, "pod/default/web-2");
    assert!(first[1].targets.is_empty());

    // MODIFIED: the second pod got its IP.
    api.events(path, vec![ev("MODIFIED", &pod("web-2", Some("10.0.0.2")))]);
    let u = next(&mut rx).await;
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].source, "pod/default/web-2");
    assert_eq!(u[0].targets, pod_targets("10.0.0.2"));

    // A bookmark changes nothing.
    api.events(
        path,
        vec![ev(
            "BOOKMARK",
            &json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "9"}}),
        )],
    );
    quiet(&mut rx).await;

    // DELETED: an empty group for the pod's source.
    api.events(path, vec![ev("DELETED", &pod("web-1", Some("10.0.0.1")))]);
    let u = next(&mut rx).await;
    assert_eq!(u.len(), 1);
    assert_eq!(u[0].source, "pod/default/web-1");
    assert!(u[0].targets.is_empty());

    // 410 Gone: the watcher relists; web-2 vanished while the watch was
    // broken, web-3 appeared.
    api.set_items(path, vec![pod("web-3", Some("10.0.0.3"))]);
    api.gone(path);
    let u = next(&mut rx).await;
    let sources: Vec<&str> = u.iter().map(|g| g.source.as_str()).collect();
    assert_eq!(sources, ["pod/default/web-2", "pod/default/web-3"]);
    assert!(u[0].targets.is_empty());
    assert_eq!(u[1].targets, pod_targets("10.0.0.3"));
    let lists = api
        .requests()
        .iter()
        .filter(|r| r.starts_with(path) && !r.contains("watch="))
        .count();
    assert_eq!(lists, 2, "{:?}", api.requests());
}

#[tokio::test]
async fn pods_in_named_namespaces_with_selectors() {
    let api = FakeApi::start().await;
    let mut c = fake::config(&api, "pod");
    c.http.authorization = Some(config::Authorization {
        kind: "Bearer".into(),
        credentials: config::Secret::new("tok"),
        ..Default::default()
    });
    c.namespaces.names = vec!["default".into()];
    c.selectors = vec![config::discovery::KubernetesSelector {
        role: "pod".into(),
        label: "app=web".into(),
        field: "spec.nodeName=node-a".into(),
    }];
    api.set_items(
        "/api/v1/namespaces/default/pods",
        vec![pod("web-1", Some("10.0.0.1"))],
    );
    let mut rx = fake::start(&c);
    let first = next(&mut rx).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].targets.len(), 3);
    let reqs = api.requests();
    let list = reqs.iter().find(|r| !r.contains("watch=")).unwrap();
    assert!(
        list.starts_with("/api/v1/namespaces/default/pods?"),
        "{list}"
    );
    assert!(list.contains("labelSelector=app%3Dweb"), "{list}");
    assert!(
        list.contains("fieldSelector=spec.nodeName%3Dnode-a"),
        "{list}"
    );
}

fn node(name: &str, labels: Value) -> Value {
    json!({
        "kind": "Node", "apiVersion": "v1",
        "metadata": {"name": name, "resourceVersion": "4", "labels": labels, "annotations": {"node.alpha/ttl": "0"}},
        "spec": {"providerID": format!("aws:///eu-west-1a/{name}")},
        "status": {
            "addresses": [
                {"type": "Hostname", "address": name},
                {"type": "ExternalIP", "address": "203.0.113.5"},
                {"type": "InternalIP", "address": "10.1.0.5"},
                {"type": "InternalIP", "address": "10.1.0.6"}
            ],
            "conditions": [{"type": "Ready", "status": "True"},
                           {"type": "MemoryPressure", "status": "False"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}
        }
    })
}

#[tokio::test]
async fn nodes_with_kubelet_address_and_pods_with_node_metadata() {
    let api = FakeApi::start().await;
    api.set_items("/api/v1/nodes", vec![node("node-a", json!({"zone": "a"}))]);
    let mut rx = fake::start(&fake::config(&api, "node"));
    let first = next(&mut rx).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].source, "node/node-a");
    assert_eq!(
        first[0].labels,
        ls(&[
            ("__meta_kubernetes_node_name", "node-a"),
            (
                "__meta_kubernetes_node_provider_id",
                "aws:///eu-west-1a/node-a"
            ),
            ("__meta_kubernetes_node_condition_ready", "true"),
            ("__meta_kubernetes_node_condition_memorypressure", "false"),
            ("__meta_kubernetes_node_label_zone", "a"),
            ("__meta_kubernetes_node_labelpresent_zone", "true"),
            ("__meta_kubernetes_node_annotation_node_alpha_ttl", "0"),
            (
                "__meta_kubernetes_node_annotationpresent_node_alpha_ttl",
                "true"
            ),
        ])
    );
    assert_eq!(
        first[0].targets,
        [ls(&[
            ("__address__", "10.1.0.5:10250"),
            ("instance", "node-a"),
            ("__meta_kubernetes_node_address_Hostname", "node-a"),
            ("__meta_kubernetes_node_address_ExternalIP", "203.0.113.5"),
            ("__meta_kubernetes_node_address_InternalIP", "10.1.0.5"),
        ])]
    );
    api.events(
        "/api/v1/nodes",
        vec![ev("ADDED", &node("node-b", json!({})))],
    );
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "node/node-b");

    // Role pod with attach_metadata.node: node labels on the pod's group,
    // refreshed when the node changes.
    let api = FakeApi::start().await;
    api.set_items("/api/v1/nodes", vec![node("node-a", json!({"zone": "a"}))]);
    api.set_items("/api/v1/pods", vec![pod("web-1", Some("10.0.0.1"))]);
    let mut c = fake::config(&api, "pod");
    c.attach_metadata.node = true;
    let mut rx = fake::start(&c);
    let first = next(&mut rx).await;
    assert_eq!(
        first[0].labels.get("__meta_kubernetes_node_label_zone"),
        Some("a")
    );
    assert_eq!(
        first[0].labels.get("__meta_kubernetes_node_name"),
        Some("node-a")
    );
    api.events(
        "/api/v1/nodes",
        vec![ev("MODIFIED", &node("node-a", json!({"zone": "b"})))],
    );
    let u = next(&mut rx).await;
    assert_eq!(u[0].source, "pod/default/web-1");
    assert_eq!(
        u[0].labels.get("__meta_kubernetes_node_label_zone"),
        Some("b")
    );
}

#[tokio::test]
async fn pods_with_deployment_job_and_cronjob_names() {
    let api = FakeApi::start().await;
    let rs = |deployment: &str| {
        json!({
            "kind": "ReplicaSet", "apiVersion": "apps/v1",
            "metadata": {"name": "web-5d", "namespace": "default", "resourceVersion": "2",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": deployment, "uid": "d1", "controller": true}]},
            "spec": {"selector": {"matchLabels": {"app": "web"}}}
        })
    };
    let job = json!({
        "kind": "Job", "apiVersion": "batch/v1",
        "metadata": {"name": "backup-123", "namespace": "default", "resourceVersion": "2",
                     "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob",
                                          "name": "backup", "uid": "c1", "controller": true}]},
        "spec": {"template": {"spec": {"containers": []}}}
    });
    let mut job_pod = pod("backup-123-x", Some("10.0.0.9"));
    job_pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "backup-123", "uid": "j1", "controller": true}]);
    api.set_items("/apis/apps/v1/replicasets", vec![rs("web")]);
    api.set_items("/apis/batch/v1/jobs", vec![job]);
    api.set_items(
        "/api/v1/pods",
        vec![pod("web-1", Some("10.0.0.1")), job_pod],
    );
    let mut c = fake::config(&api, "pod");
    c.attach_metadata.deployment = true;
    c.attach_metadata.job = true;
    c.attach_metadata.cronjob = true;
    let mut rx = fake::start(&c);
    let first = next(&mut rx).await;
    assert_eq!(first[0].source, "pod/default/backup-123-x");
    assert_eq!(
        first[0].labels.get("__meta_kubernetes_pod_job_name"),
        Some("backup-123")
    );
    assert_eq!(
        first[0].labels.get("__meta_kubernetes_pod_cronjob_name"),
        Some("backup")
    );
    assert_eq!(first[1].source, "pod/default/web-1");
    assert_eq!(
        first[1].labels.get("__meta_kubernetes_pod_deployment_name"),
        Some("web")
    );
    assert_eq!(first[1].labels.get("__meta_kubernetes_pod_job_name"), None);

    // The replica set changes owner: its pods are rebuilt.
    api.events(
        "/apis/apps/v1/replicasets",
        vec![ev("MODIFIED", &rs("web-v2"))],
    );
    let u = next(&mut rx).await;
    assert_eq!(u.len(), 1);
    assert_eq!(
        u[0].labels.get("__meta_kubernetes_pod_deployment_name"),
        Some("web-v2")
    );
}

#[tokio::test]
async fn kubeconfig_file_names_the_server_and_token() {
    let api = FakeApi::start().await;
    api.set_items("/api/v1/namespaces/team-a/services", vec![]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
         clusters:\n- name: k\n  cluster:\n    server: {}\n\
         users:\n- name: u\n  user:\n    token: abc\n\
         contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n",
        api.url
    );
    std::fs::write(&path, text).unwrap();
    let c = config::discovery::KubernetesSdConfig {
        role: "service".into(),
        kubeconfig_file: path.to_string_lossy().into_owned(),
        namespaces: config::discovery::KubernetesNamespaces {
            names: vec!["team-a".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let mut rx = fake::start(&c);
    // An empty first view: discovery ran and found nothing.
    assert!(next(&mut rx).await.is_empty());
    assert!(api.requests()[0].starts_with("/api/v1/namespaces/team-a/services?"));
    assert_eq!(api.authorizations()[0], "Bearer abc");

    let missing = config::discovery::KubernetesSdConfig {
        role: "service".into(),
        kubeconfig_file: dir.path().join("nope").to_string_lossy().into_owned(),
        ..Default::default()
    };
    let err = discovery::kubernetes::KubernetesDiscovery::new(&missing)
        .err()
        .unwrap();
    assert!(
        err.to_string().starts_with("cannot use kubeconfig file"),
        "{err}"
    );
}

#[tokio::test]
async fn stops_when_the_receiver_is_dropped() {
    let api = FakeApi::start().await;
    api.set_items("/api/v1/nodes", vec![node("node-a", json!({}))]);
    let (mut rx, task) = fake::start_task(&fake::config(&api, "node"));
    assert_eq!(next(&mut rx).await.len(), 1);
    drop(rx);
    tokio::time::timeout(std::time::Duration::from_secs(1), task)
        .await
        .expect("discovery stops within a second")
        .unwrap();
}

#[tokio::test]
async fn the_manager_runs_kubernetes_sd_configs_from_prometheus_yml() {
    use discovery::{DiscoveryManager, ManagerOptions};
    use std::sync::Arc;
    use std::time::Duration;

    let api = FakeApi::start().await;
    api.set_items("/api/v1/nodes", vec![node("node-a", json!({}))]);
    let yaml = format!(
        "scrape_configs:\n- job_name: kubelet\n  kubernetes_sd_configs:\n  - role: node\n    api_server: '{}'\n",
        api.url
    );
    let jobs = config::load_str(&yaml, "prometheus.yml")
        .unwrap()
        .scrape_configs
        .into_iter()
        .map(|s| (s.job_name, s.service_discovery))
        .collect();
    let (m, mut rx) = DiscoveryManager::new(ManagerOptions {
        update_interval: Duration::from_millis(50),
        ..ManagerOptions::default()
    });
    let m = Arc::new(m);
    m.apply_config(jobs).await.unwrap();
    tokio::spawn({
        let m = Arc::clone(&m);
        async move { m.run(std::future::pending()).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let got = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the node's group within two seconds")
            .unwrap();
        let groups = got.get("kubelet").cloned().unwrap_or_default();
        if let Some(g) = groups.iter().find(|g| g.source == "node/node-a") {
            assert_eq!(g.targets[0].get("__address__"), Some("10.1.0.5:10250"));
            break;
        }
    }
}
