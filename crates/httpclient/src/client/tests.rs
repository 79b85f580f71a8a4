use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use super::*;

/// A CA, and a server and a client certificate it signed, as PEM files.
struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Certificate,
    server: (rcgen::Certificate, KeyPair),
}

fn pki() -> Pki {
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
    let (client, client_key) = signed(vec!["client".into()]);
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("client.pem"), client.pem()).unwrap();
    std::fs::write(dir.path().join("client.key"), client_key.serialize_pem()).unwrap();
    Pki { dir, ca, server }
}

/// A loopback HTTPS server that requires a client certificate from the CA
/// and answers every request with `ok`.
async fn serve(pki: &Pki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    roots.add(pki.ca.der().clone()).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.1.serialize_der()));
    let cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![pki.server.0.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}/sd",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.ends_with(b"\r\n\r\n") {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = tls
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .await;
            let _ = tls.shutdown().await;
        }
    });
    url
}

fn tls(pki: &Pki, ca: bool, cert: bool, insecure: bool) -> HttpClientConfig {
    let file = |name: &str| pki.dir.path().join(name).to_string_lossy().into_owned();
    let mut t = TlsConfig {
        insecure_skip_verify: insecure,
        ..TlsConfig::default()
    };
    if ca {
        t.ca_file = file("ca.pem");
    }
    if cert {
        t.cert_file = file("client.pem");
        t.key_file = file("client.key");
    }
    HttpClientConfig {
        tls_config: t,
        ..HttpClientConfig::default()
    }
}

async fn fetch(url: &str, cfg: &HttpClientConfig) -> Result<String, String> {
    let client = HttpClient::new(cfg, Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    let resp = client
        .get(url)
        .await
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    resp.text().await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn tls_settings_reach_the_handshake() {
    let pki = pki();
    let url = serve(&pki).await;
    assert_eq!(
        fetch(&url, &tls(&pki, true, true, false)).await.unwrap(),
        "ok"
    );
    assert_eq!(
        fetch(&url, &tls(&pki, false, true, true)).await.unwrap(),
        "ok",
        "insecure_skip_verify accepts an unknown CA"
    );
    let no_client_cert = fetch(&url, &tls(&pki, true, false, false)).await;
    assert!(no_client_cert.is_err(), "{no_client_cert:?}");
    let unknown_ca = fetch(&url, &tls(&pki, false, true, false))
        .await
        .unwrap_err();
    assert!(unknown_ca.contains("UnknownIssuer"), "{unknown_ca}");
    let mut missing = tls(&pki, true, false, false);
    missing.tls_config.ca_file = "/nonexistent/ca.pem".into();
    let e = fetch(&url, &missing).await.unwrap_err();
    assert!(e.contains("cannot read ca_file /nonexistent/ca.pem"), "{e}");
}

#[test]
fn unsupported_settings_are_named() {
    let mut cfg = HttpClientConfig::default();
    assert_eq!(unsupported(&cfg), None);
    cfg.tls_config.server_name = "x".into();
    assert_eq!(unsupported(&cfg), Some("tls_config server_name"));
    cfg.oauth2 = Some(config::OAuth2::default());
    assert_eq!(unsupported(&cfg), Some("oauth2"), "oauth2 is named first");
}

#[tokio::test]
async fn credentials_file_is_read_per_request() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "one\n").unwrap();
    let cfg = HttpClientConfig {
        authorization: Some(config::Authorization {
            kind: "Bearer".into(),
            credentials_file: token.to_string_lossy().into_owned(),
            ..Default::default()
        }),
        ..HttpClientConfig::default()
    };
    let client = HttpClient::new(&cfg, None).unwrap();
    let auth = |req: reqwest::RequestBuilder| {
        let req = req.build().unwrap();
        req.headers()[reqwest::header::AUTHORIZATION]
            .to_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        auth(client.get("http://127.0.0.1:1/").await.unwrap()),
        "Bearer one"
    );
    std::fs::write(&token, "two").unwrap();
    assert_eq!(
        auth(client.get("http://127.0.0.1:1/").await.unwrap()),
        "Bearer two"
    );
    std::fs::remove_file(&token).unwrap();
    let e = client
        .get("http://127.0.0.1:1/")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot read credentials_file"), "{e}");
}
