//! Kubernetes SD over HTTPS: the `api_server` TLS settings (CA file,
//! client certificate and key files) reach kube's client, against a
//! loopback API server that requires a client certificate from the CA.

use std::sync::Arc;
use std::time::Duration;

use config::discovery::KubernetesSdConfig;
use discovery::kubernetes::KubernetesDiscovery;
use discovery::Discoverer;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Serves `/api/v1/nodes` over mutual TLS: a one-node list, and a watch
/// that stays open without events.
async fn serve(ca: &rcgen::Certificate, server: &(rcgen::Certificate, KeyPair)) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server.1.serialize_der()));
    let cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![server.0.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let list = json!({
        "kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "3"},
        "items": [{
            "metadata": {"name": "node-a", "resourceVersion": "3"},
            "status": {"addresses": [{"type": "InternalIP", "address": "10.1.0.5"}],
                       "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}
        }]
    })
    .to_string();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let list = list.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                if line.contains("watch=true") {
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                        .await;
                    tokio::time::sleep(Duration::from_secs(5)).await;
                } else {
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{list}",
                        list.len()
                    );
                    let _ = tls.write_all(resp.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    url
}

#[tokio::test]
async fn api_server_over_mutual_tls() {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let signed = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        (cert, key)
    };
    let server = signed(vec!["localhost".into(), "127.0.0.1".into()]);
    let (client, client_key) = signed(vec!["prometheus".into()]);
    let file = |name: &str, text: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let url = serve(&ca, &server).await;

    let mut c = KubernetesSdConfig {
        api_server: Some(config::GoUrl::parse(&url).unwrap()),
        role: "node".into(),
        ..KubernetesSdConfig::default()
    };
    c.http.tls_config.ca_file = file("ca.pem", ca.pem());
    c.http.tls_config.cert_file = file("client.pem", client.pem());
    c.http.tls_config.key_file = file("client.key", client_key.serialize_pem());
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(Box::new(KubernetesDiscovery::new(&c).unwrap()).run(tx));
    let first = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .expect("the node list within two seconds")
        .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0].targets[0].get("__address__"),
        Some("10.1.0.5:10250")
    );

    // Without the client certificate the server refuses the handshake:
    // no view comes.
    c.http.tls_config.cert_file.clear();
    c.http.tls_config.key_file.clear();
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(Box::new(KubernetesDiscovery::new(&c).unwrap()).run(tx));
    let got = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await;
    assert!(got.is_err(), "{got:?}");
}
