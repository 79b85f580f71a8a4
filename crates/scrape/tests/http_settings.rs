//! A job's HTTP client settings reach its scrapes: credentials and headers
//! on every request (files re-read each time), TLS at the handshake.

mod support {
    pub(crate) mod server;
}

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use model::Labels;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use scrape::{HttpClient, ScrapeLoop, ScrapeOptions, ScrapeSummary, Target};
use storage::MemStorage;
use support::server::{Reply, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The HTTP client settings of a job with `settings` (YAML lines, indented
/// as a scrape config's keys), loaded as the server loads them.
fn settings(settings: &str) -> config::HttpClientConfig {
    let yaml = format!("scrape_configs:\n  - job_name: t\n{settings}");
    let cfg = config::load_str(&yaml, "test.yml").unwrap();
    cfg.all_scrape_configs().unwrap()[0].http.clone()
}

/// A loop scraping `addr` with `scheme` and the client of `http`.
fn scrape_loop(addr: &str, scheme: &str, http: &config::HttpClientConfig) -> ScrapeLoop {
    let mut opts = ScrapeOptions::new("t");
    opts.scheme = scheme.to_owned();
    opts.timeout = Duration::from_secs(5);
    let target = Target::new(&Labels::from_pairs(&[("__address__", addr)]), &opts)
        .unwrap()
        .unwrap();
    let client = HttpClient::from(httpclient::HttpClient::new(http, None).unwrap());
    ScrapeLoop::new(
        Arc::new(target),
        &opts,
        Arc::new(MemStorage::new()),
        &client,
    )
}

async fn scrape(sl: &mut ScrapeLoop) -> ScrapeSummary {
    sl.scrape_once(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .await
}

/// The value of header `name` (lower case) in the server's `i`th request.
fn header(server: &TestServer, i: usize, name: &str) -> Vec<String> {
    let req = &server.requests()[i];
    req.split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

fn basic(user: &str, password: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {b64}")
}

#[tokio::test]
async fn basic_auth_password_file_is_read_at_every_scrape() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "first\n").unwrap();
    let server = TestServer::start(Reply::text("a 1\n")).await;
    let http = settings(&format!(
        "    basic_auth: {{username: u, password_file: {}}}\n",
        pw.display()
    ));
    let mut sl = scrape_loop(&server.addr, "http", &http);
    assert_eq!(scrape(&mut sl).await.error, None);
    std::fs::write(&pw, "second").unwrap();
    assert_eq!(scrape(&mut sl).await.error, None);
    assert_eq!(header(&server, 0, "authorization"), [basic("u", "first")]);
    assert_eq!(header(&server, 1, "authorization"), [basic("u", "second")]);

    std::fs::remove_file(&pw).unwrap();
    let e = scrape(&mut sl).await.error.unwrap().to_string();
    assert!(e.contains("cannot read password_file"), "{e}");
    assert_eq!(server.requests().len(), 2, "no request without credentials");
}

#[tokio::test]
async fn bearer_tokens_inline_legacy_and_from_file() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "from-file\n").unwrap();
    let server = TestServer::start(Reply::text("a 1\n")).await;
    for (yaml, want) in [
        (
            "    authorization: {credentials: inline}\n",
            "Bearer inline",
        ),
        ("    bearer_token: legacy\n", "Bearer legacy"),
        (
            &*format!(
                "    authorization: {{type: Token, credentials_file: {}}}\n",
                token.display()
            ),
            "Token from-file",
        ),
    ] {
        let before = server.requests().len();
        let mut sl = scrape_loop(&server.addr, "http", &settings(yaml));
        assert_eq!(scrape(&mut sl).await.error, None, "{yaml}");
        assert_eq!(header(&server, before, "authorization"), [want], "{yaml}");
    }
}

#[tokio::test]
async fn custom_headers_are_sent_and_scrape_headers_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("h");
    std::fs::write(&file, "from-file").unwrap();
    let server = TestServer::start(Reply::text("a 1\n")).await;
    let http = settings(&format!(
        concat!(
            "    http_headers:\n",
            "      X-Tenant: {{values: [a, b]}}\n",
            "      X-Secret: {{secrets: [s], files: [{}]}}\n",
        ),
        file.display()
    ));
    let mut sl = scrape_loop(&server.addr, "http", &http);
    assert_eq!(scrape(&mut sl).await.error, None);
    assert_eq!(header(&server, 0, "x-tenant"), ["a", "b"]);
    assert_eq!(header(&server, 0, "x-secret"), ["s", "from-file"]);
    let timeout = header(&server, 0, "x-prometheus-scrape-timeout-seconds");
    assert_eq!(timeout, ["5"]);
}

/// A CA and a server certificate for 127.0.0.1 it signed, the CA as a
/// PEM file.
struct Pki {
    dir: tempfile::TempDir,
    server: (rcgen::Certificate, KeyPair),
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    Pki {
        dir,
        server: (cert, key),
    }
}

/// A loopback HTTPS server answering every request with one sample.
async fn serve_tls(pki: &Pki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.server.1.serialize_der()));
    let cfg = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.server.0.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(cfg));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
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
            let body = "tls_ok 1\n";
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tls.write_all(resp.as_bytes()).await;
            let _ = tls.shutdown().await;
        }
    });
    addr
}

#[tokio::test]
async fn tls_ca_file_and_insecure_skip_verify() {
    let pki = pki();
    let addr = serve_tls(&pki).await;
    let ca = pki.dir.path().join("ca.pem");

    let with_ca = settings(&format!("    tls_config: {{ca_file: {}}}\n", ca.display()));
    let r = scrape(&mut scrape_loop(&addr, "https", &with_ca)).await;
    assert_eq!((r.error, r.samples_scraped), (None, 1));

    let unknown = scrape(&mut scrape_loop(&addr, "https", &settings(""))).await;
    let e = unknown.error.expect("an unknown CA fails").to_string();
    assert!(e.contains("UnknownIssuer"), "{e}");

    let insecure = settings("    tls_config: {insecure_skip_verify: true}\n");
    let r = scrape(&mut scrape_loop(&addr, "https", &insecure)).await;
    assert_eq!((r.error, r.samples_scraped), (None, 1));

    let missing = settings("    tls_config: {ca_file: /nonexistent/ca.pem}\n");
    let e = httpclient::HttpClient::new(&missing, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot read ca_file /nonexistent/ca.pem"),
        "{e}"
    );
}
