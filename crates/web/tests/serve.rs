//! The server end to end on loopback: management endpoints, basic auth,
//! headers, body limit, graceful shutdown, route prefix, and TLS with
//! certificates made at test time.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use tokio::sync::oneshot;
use web::{management_router, ManagementState, Readiness, RoutePrefix, Server, ServerOptions};

/// A running server and what stops it.
struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<Result<(), web::WebError>>,
}

impl Running {
    async fn start(web_config: Option<&Path>, app: Router, options: ServerOptions) -> Running {
        let server = Server::bind(&["127.0.0.1:0"], web_config)
            .await
            .unwrap()
            .with_options(options);
        let addr = server.local_addrs()[0];
        let (tx, rx) = oneshot::channel::<()>();
        let done = tokio::spawn(server.serve(app, async {
            let _ = rx.await;
        }));
        Running {
            addr,
            stop: Some(tx),
            done,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.done.await.unwrap().unwrap();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn answer(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn management_endpoints() {
    let readiness = Readiness::new();
    let (state, _events) = ManagementState::new(readiness.clone(), false);
    let s = Running::start(None, management_router(state), ServerOptions::default()).await;
    let c = client();
    let get = |p: &str| c.get(s.url(p)).send();
    assert_eq!(
        answer(get("/-/healthy").await.unwrap()).await,
        (200, "Prometheus Server is Healthy.\n".into())
    );
    let head = c.head(s.url("/-/healthy")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let r = get("/-/ready").await.unwrap();
    assert_eq!(r.headers()["x-prometheus-stopping"], "false");
    assert_eq!(answer(r).await, (503, "Service Unavailable".into()));
    readiness.set_ready();
    assert_eq!(
        answer(get("/-/ready").await.unwrap()).await,
        (200, "Prometheus Server is Ready.\n".into())
    );
    readiness.set_stopping();
    let r = get("/-/ready").await.unwrap();
    assert_eq!(r.headers()["x-prometheus-stopping"], "true");
    for path in ["/-/reload", "/-/quit"] {
        let r = c.post(s.url(path)).send().await.unwrap();
        assert_eq!(
            answer(r).await,
            (403, "Lifecycle API is not enabled.".into())
        );
        let r = c.put(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(
            answer(get(path).await.unwrap()).await,
            (405, "Only POST or PUT requests allowed".into())
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn lifecycle_reload_and_quit() {
    let (state, mut events) = ManagementState::new(Readiness::new(), true);
    let s = Running::start(None, management_router(state), ServerOptions::default()).await;
    // The server's side: the first reload works, the second fails.
    tokio::spawn(async move {
        let mut n = 0;
        while let Some(r) = events.reloads.recv().await {
            n += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            r.finish(if n == 1 {
                Ok(())
            } else {
                Err("boom at line 3".into())
            });
        }
    });
    let c = client();
    assert_eq!(
        answer(c.post(s.url("/-/reload")).send().await.unwrap()).await,
        (200, String::new())
    );
    assert_eq!(
        answer(c.put(s.url("/-/reload")).send().await.unwrap()).await,
        (500, "failed to reload config: boom at line 3\n".into())
    );
    assert_eq!(
        answer(c.post(s.url("/-/quit")).send().await.unwrap()).await,
        (200, "Requesting termination... Goodbye!".into())
    );
    assert_eq!(
        answer(c.post(s.url("/-/quit")).send().await.unwrap()).await,
        (200, "Termination already in progress.".into())
    );
    s.stop().await;
}

#[tokio::test]
async fn quit_is_signalled() {
    let (state, events) = ManagementState::new(Readiness::new(), true);
    let s = Running::start(None, management_router(state), ServerOptions::default()).await;
    let mut quit = events.quit;
    assert!(!*quit.borrow());
    client().post(s.url("/-/quit")).send().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), quit.changed())
        .await
        .unwrap()
        .unwrap();
    assert!(*quit.borrow());
    s.stop().await;
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test]
async fn basic_auth_and_headers() {
    let dir = tempfile::tempdir().unwrap();
    let hash = bcrypt::hash("secret", 4).unwrap();
    let cfg = write(
        dir.path(),
        "web.yml",
        &format!("http_server_config:\n  headers:\n    X-Frame-Options: deny\nbasic_auth_users:\n  alice: {hash}\n"),
    );
    let app = Router::new().route("/x", get(|| async { "hello" }));
    let s = Running::start(Some(&cfg), app, ServerOptions::default()).await;
    let c = client();
    let r = c.get(s.url("/x")).send().await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Basic");
    assert_eq!(r.headers()["x-frame-options"], "deny");
    assert_eq!(answer(r).await, (401, "Unauthorized\n".into()));
    for (user, pass, want) in [
        ("alice", "secret", 200),
        ("alice", "wrong", 401),
        ("bob", "secret", 401),
        ("alice", "secret", 200),
    ] {
        let r = c
            .get(s.url("/x"))
            .basic_auth(user, Some(pass))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want, "{user}:{pass}");
        assert_eq!(r.headers()["x-frame-options"], "deny");
    }
    // A changed file takes effect on the next request.
    let hash2 = bcrypt::hash("other", 4).unwrap();
    std::fs::write(&cfg, format!("basic_auth_users:\n  carol: {hash2}\n")).unwrap();
    let r = c
        .get(s.url("/x"))
        .basic_auth("carol", Some("other"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-frame-options").is_none());
    // A broken file gives 500 until it is fixed.
    std::fs::write(&cfg, "basic_auth_users: [oops\n").unwrap();
    let r = c.get(s.url("/x")).send().await.unwrap();
    assert_eq!(answer(r).await, (500, "Internal Server Error\n".into()));
    s.stop().await;
}

#[tokio::test]
async fn bad_web_config_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "web.yml",
        "http_server_config:\n  headers:\n    Server: me\n",
    );
    let e = match Server::bind(&["127.0.0.1:0"], Some(&cfg)).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("bound with a bad config"),
    };
    assert!(
        e.ends_with(r#"web.yml:3:13: http_server_config.headers.Server: HTTP header "Server" can not be configured"#),
        "{e}"
    );
}

#[tokio::test]
async fn body_limit() {
    let app = Router::new().route("/echo", post(|body: String| async move { body }));
    let options = ServerOptions {
        max_request_body_bytes: 16,
        ..ServerOptions::default()
    };
    let s = Running::start(None, app, options).await;
    let c = client();
    let small = c
        .post(s.url("/echo"))
        .body("0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(answer(small).await, (200, "0123456789".into()));
    let big = c
        .post(s.url("/echo"))
        .body("x".repeat(17))
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    s.stop().await;
}

#[tokio::test]
async fn shutdown_drains_requests_in_flight() {
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "done"
        }),
    );
    let s = Running::start(None, app, ServerOptions::default()).await;
    let url = s.url("/slow");
    let pending = tokio::spawn(async move { client().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = s.addr;
    s.stop().await;
    let r = pending.await.unwrap().unwrap();
    assert_eq!(answer(r).await, (200, "done".into()));
    // And new connections are refused.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn shutdown_leaves_requests_after_the_drain_timeout() {
    let app = Router::new().route(
        "/stuck",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "never"
        }),
    );
    let options = ServerOptions {
        drain_timeout: Duration::from_millis(200),
        ..ServerOptions::default()
    };
    let s = Running::start(None, app, options).await;
    let url = s.url("/stuck");
    let _pending = tokio::spawn(async move { client().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(Duration::from_secs(5), s.stop())
        .await
        .expect("shutdown waited past its drain timeout");
}

#[tokio::test]
async fn route_prefix() {
    let (state, _e) = ManagementState::new(Readiness::new(), false);
    let app = RoutePrefix::new("prom/").apply(management_router(state));
    let s = Running::start(None, app, ServerOptions::default()).await;
    let c = client();
    let r = c.get(s.url("/")).send().await.unwrap();
    assert_eq!(
        (r.status().as_u16(), &r.headers()["location"]),
        (302, &"/prom".parse().unwrap())
    );
    let r = c.get(s.url("/prom")).send().await.unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "/prom/");
    assert_eq!(
        c.get(s.url("/prom/-/healthy"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(s.url("/-/healthy")).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        c.get(s.url("/promx/-/healthy"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(RoutePrefix::new("").as_str(), "/");
    assert_eq!(RoutePrefix::new("/a/b/").as_str(), "/a/b");
    s.stop().await;
}

/// A CA, a server certificate for 127.0.0.1 and client certificates, as PEM.
struct Pki {
    ca: String,
    server: (String, String),
    client: (String, String),
    /// A client certificate from another CA.
    stranger: (String, String),
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    (p.self_signed(&key).unwrap(), key)
}

fn leaf(
    sans: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &(rcgen::Certificate, KeyPair),
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.extended_key_usages = vec![usage];
    let cert = p.signed_by(&key, &issuer.0, &issuer.1).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki() -> Pki {
    let root = ca("pharos test CA");
    let other = ca("other CA");
    Pki {
        ca: root.0.pem(),
        server: leaf(
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &root,
        ),
        client: leaf(
            &["client.example"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &root,
        ),
        stranger: leaf(
            &["client.example"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &other,
        ),
    }
}

fn tls_client(pki: &Pki, identity: Option<&(String, String)>, max12: bool) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca.as_bytes()).unwrap());
    if let Some((cert, key)) = identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap());
    }
    if max12 {
        b = b.max_tls_version(reqwest::tls::Version::TLS_1_2);
    }
    b.build().unwrap()
}

/// Whether a GET over TLS succeeds with the given client settings.
async fn tls_ok(
    addr: SocketAddr,
    pki: &Pki,
    identity: Option<&(String, String)>,
    max12: bool,
) -> bool {
    let c = tls_client(pki, identity, max12);
    match c
        .get(format!("https://127.0.0.1:{}/x", addr.port()))
        .send()
        .await
    {
        Ok(r) => r.status() == 200,
        Err(_) => false,
    }
}

#[tokio::test]
async fn tls_client_auth_and_versions() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "server.crt", &pki.server.0);
    write(dir.path(), "server.key", &pki.server.1);
    write(dir.path(), "ca.crt", &pki.ca);
    let app = Router::new().route("/x", get(|| async { "tls" }));
    // (settings, [no client cert, good client cert, client cert of another CA,
    // good client cert over TLS 1.2])
    let cases: &[(&str, [bool; 4])] = &[
        ("", [true, true, true, true]),
        ("min_version: TLS13", [true, true, true, false]),
        ("max_version: TLS12", [true, true, true, true]),
        ("client_auth_type: RequestClientCert", [true, true, true, true]),
        ("client_auth_type: RequireAnyClientCert", [false, true, true, true]),
        ("client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt", [true, true, false, true]),
        ("client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt", [false, true, false, true]),
        ("client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [client.example]", [false, true, false, true]),
        ("client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  client_allowed_sans: [someone.else]", [false, false, false, false]),
        ("cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]\n  max_version: TLS12", [true, true, true, true]),
        ("curve_preferences: [CurveP384]", [true, true, true, true]),
    ];
    for (settings, want) in cases {
        let cfg = write(
            dir.path(),
            "web.yml",
            &format!("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  {settings}\n"),
        );
        let s = Running::start(Some(&cfg), app.clone(), ServerOptions::default()).await;
        let got = [
            tls_ok(s.addr, &pki, None, false).await,
            tls_ok(s.addr, &pki, Some(&pki.client), false).await,
            tls_ok(s.addr, &pki, Some(&pki.stranger), false).await,
            tls_ok(s.addr, &pki, Some(&pki.client), true).await,
        ];
        assert_eq!(&got, want, "settings: {settings}");
        s.stop().await;
    }
}

#[tokio::test]
async fn tls_picks_up_new_certificates() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "server.crt", &pki.server.0);
    write(dir.path(), "server.key", &pki.server.1);
    let cfg = write(
        dir.path(),
        "web.yml",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
    );
    let app = Router::new().route("/x", get(|| async { "tls" }));
    let s = Running::start(Some(&cfg), app, ServerOptions::default()).await;
    assert!(tls_ok(s.addr, &pki, None, false).await);
    // Plain HTTP to the TLS port fails.
    assert!(client()
        .get(s.url("/x"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true));
    // Certificates of another CA: a client trusting only the first fails.
    let other = self::pki();
    std::fs::write(dir.path().join("server.crt"), &other.server.0).unwrap();
    std::fs::write(dir.path().join("server.key"), &other.server.1).unwrap();
    assert!(!tls_ok(s.addr, &pki, None, false).await);
    assert!(tls_ok(s.addr, &other, None, false).await);
    s.stop().await;
}

#[tokio::test]
async fn rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "web.yml",
        "rate_limit:\n  interval: 1m\n  burst: 2\n",
    );
    let app = Router::new().route("/x", get(|| async { "hello" }));
    let s = Running::start(Some(&cfg), app, ServerOptions::default()).await;
    let c = client();
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(answer(c.get(s.url("/x")).send().await.unwrap()).await);
    }
    assert_eq!(
        got,
        [
            (200, "hello".into()),
            (200, "hello".into()),
            (429, "Too Many Requests\n".into())
        ]
    );
    s.stop().await;
}

#[tokio::test]
async fn connection_limit() {
    let app = Router::new().route("/x", get(|| async { "hello" }));
    let options = ServerOptions {
        max_connections: 1,
        ..ServerOptions::default()
    };
    let s = Running::start(None, app, options).await;
    // An idle connection holds the only slot...
    let idle = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = s.url("/x");
    let pending = tokio::spawn(async move { client().get(url).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!pending.is_finished(), "served beyond max_connections");
    // ...until it goes.
    drop(idle);
    let r = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(r.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn several_listen_addresses() {
    let server = Server::bind(&["127.0.0.1:0", "localhost:0"], None)
        .await
        .unwrap();
    let addrs = server.local_addrs();
    assert_eq!(addrs.len(), 2);
    let (tx, rx) = oneshot::channel::<()>();
    let app = Router::new().route("/x", get(|| async { "hello" }));
    let done = tokio::spawn(server.serve(app, async {
        let _ = rx.await;
    }));
    for a in addrs {
        let r = client().get(format!("http://{a}/x")).send().await.unwrap();
        assert_eq!(answer(r).await, (200, "hello".into()));
    }
    let _ = tx.send(());
    done.await.unwrap().unwrap();
}

#[tokio::test]
async fn http2_over_tls_as_configured() {
    let pki = pki();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "server.crt", &pki.server.0);
    write(dir.path(), "server.key", &pki.server.1);
    let app = Router::new().route("/x", get(|| async { "tls" }));
    for (http2, want) in [
        ("true", reqwest::Version::HTTP_2),
        ("false", reqwest::Version::HTTP_11),
    ] {
        let cfg = write(
            dir.path(),
            "web.yml",
            &format!("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nhttp_server_config:\n  http2: {http2}\n"),
        );
        let s = Running::start(Some(&cfg), app.clone(), ServerOptions::default()).await;
        let r = tls_client(&pki, None, false)
            .get(format!("https://127.0.0.1:{}/x", s.addr.port()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.version(), want, "http2: {http2}");
        s.stop().await;
    }
}
