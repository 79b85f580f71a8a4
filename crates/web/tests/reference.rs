//! pharos's server next to the reference Prometheus, both given the same
//! `--web.config.file`: the same requests must get the same status codes,
//! authentication challenge, configured headers and management texts, and
//! the same TLS clients must be accepted or refused by both.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use web::{management_router, ManagementState, Readiness, Server};

/// The reference server, killed when dropped.
struct Reference(Child);

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_reference(binary: &Path, dir: &Path, web_config: &Path, port: u16) -> Reference {
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  evaluation_interval: 1m\n").unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg(format!("--web.config.file={}", web_config.display()))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Reference(child)
}

/// Waits until something answers TLS or HTTP on the port, and the reference
/// is ready (its answer to `/-/ready` is no longer 503).
async fn wait_until_up(client: &reqwest::Client, url: &str, r: &mut Reference, dir: &Path) {
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = r.0.try_wait() {
            let log = std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default();
            panic!("prometheus exited with {status}:\n{log}");
        }
        if let Ok(resp) = client.get(url).send().await {
            if resp.status() != 503 {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "prometheus did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One observation of an answer: status, challenge, configured header, and
/// the body for the management paths.
async fn observe(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
) -> String {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(method.clone(), format!("{base}{path}"));
    if let Some((u, p)) = auth {
        req = req.basic_auth(u, Some(p));
    }
    match req.send().await {
        Err(_) => "refused".to_owned(),
        Ok(r) => {
            let h = |n: &str| {
                r.headers()
                    .get(n)
                    .map(|v| v.to_str().unwrap_or("?").to_owned())
            };
            // The Allow header of a 405 is not compared: Go's router
            // lists its methods differently (with OPTIONS, without HEAD).
            let head = format!(
                "{} www-authenticate={:?} x-frame-options={:?}",
                r.status().as_u16(),
                h("www-authenticate"),
                h("x-frame-options")
            );
            format!("{head} body={:?}", r.text().await.unwrap_or_default())
        }
    }
}

async fn start_pharos(web_config: &Path) -> (String, tokio::sync::oneshot::Sender<()>) {
    let readiness = Readiness::new();
    readiness.set_ready();
    let (state, _events) = ManagementState::new(readiness, false);
    let server = Server::bind(&["127.0.0.1:0"], Some(web_config))
        .await
        .unwrap();
    let addr = server.local_addrs()[0];
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(management_router(state), async {
        let _ = rx.await;
    }));
    (addr.port().to_string(), tx)
}

#[tokio::test]
async fn basic_auth_like_prometheus() {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let hash = bcrypt::hash("secret", 4).unwrap();
    let web_config = dir.path().join("web.yml");
    std::fs::write(
        &web_config,
        format!(
            "http_server_config:\n  headers:\n    X-Frame-Options: sameorigin\nbasic_auth_users:\n  alice: {hash}\n"
        ),
    )
    .unwrap();
    let port = testkit::free_port();
    let mut reference = start_reference(&prometheus, dir.path(), &web_config, port);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let theirs = format!("http://127.0.0.1:{port}");
    let ready = reqwest::Client::new();
    // Readiness through the auth gate: poll with the good password.
    let start = Instant::now();
    loop {
        if let Ok(Some(status)) = reference.0.try_wait() {
            panic!("prometheus exited with {status}");
        }
        let r = ready
            .get(format!("{theirs}/-/ready"))
            .basic_auth("alice", Some("secret"))
            .send()
            .await;
        if r.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "prometheus not ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (our_port, stop) = start_pharos(&web_config).await;
    let ours = format!("http://127.0.0.1:{our_port}");
    let good = Some(("alice", "secret"));
    type Case<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);
    let cases: &[Case] = &[
        ("GET", "/-/healthy", None),
        ("GET", "/-/healthy", good),
        ("GET", "/-/healthy", Some(("alice", "wrong"))),
        ("GET", "/-/healthy", Some(("mallory", "secret"))),
        ("GET", "/-/healthy", Some(("", ""))),
        ("HEAD", "/-/healthy", good),
        ("GET", "/-/ready", good),
        ("HEAD", "/-/ready", None),
        ("POST", "/-/reload", good),
        ("PUT", "/-/quit", good),
        ("POST", "/-/reload", None),
        ("GET", "/-/reload", good),
        ("GET", "/-/quit", good),
        ("DELETE", "/-/reload", good),
        ("HEAD", "/-/quit", good),
        ("POST", "/-/healthy", good),
        ("OPTIONS", "/-/ready", good),
        ("OPTIONS", "/-/reload", good),
        ("OPTIONS", "/-/healthy", None),
    ];
    for &(method, path, auth) in cases {
        let want = observe(&client, &theirs, method, path, auth).await;
        let got = observe(&client, &ours, method, path, auth).await;
        assert_eq!(got, want, "{method} {path} auth={auth:?}");
    }
    let _ = stop.send(());
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    (p.self_signed(&key).unwrap(), key)
}

fn leaf(
    san: &str,
    usage: ExtendedKeyUsagePurpose,
    ca: &(rcgen::Certificate, KeyPair),
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(vec![san.to_owned()]).unwrap();
    p.extended_key_usages = vec![usage];
    (
        p.signed_by(&key, &ca.0, &ca.1).unwrap().pem(),
        key.serialize_pem(),
    )
}

#[tokio::test]
async fn tls_like_prometheus() {
    let Some(prometheus) = testkit::reference("prometheus") else {
        return;
    };
    let root = ca("pharos test CA");
    let other = ca("other CA");
    let server = leaf("127.0.0.1", ExtendedKeyUsagePurpose::ServerAuth, &root);
    let good = leaf("client.example", ExtendedKeyUsagePurpose::ClientAuth, &root);
    let stranger = leaf(
        "client.example",
        ExtendedKeyUsagePurpose::ClientAuth,
        &other,
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.crt"), &server.0).unwrap();
    std::fs::write(dir.path().join("s.key"), &server.1).unwrap();
    std::fs::write(dir.path().join("ca.crt"), root.0.pem()).unwrap();
    let clients = |identity: Option<&(String, String)>, max12: bool| {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(root.0.pem().as_bytes()).unwrap());
        if let Some((c, k)) = identity {
            b = b.identity(reqwest::Identity::from_pem(format!("{c}{k}").as_bytes()).unwrap());
        }
        if max12 {
            b = b.max_tls_version(reqwest::tls::Version::TLS_1_2);
        }
        b.build().unwrap()
    };
    let variants = [
        ("no cert", clients(None, false)),
        ("good cert", clients(Some(&good), false)),
        ("other CA's cert", clients(Some(&stranger), false)),
        ("good cert, TLS 1.2", clients(Some(&good), true)),
        ("no cert, TLS 1.2", clients(None, true)),
    ];
    for settings in [
        "client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt",
        "client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt",
        "client_auth_type: RequireAnyClientCert",
        "min_version: TLS13",
    ] {
        let web_config = dir.path().join("web.yml");
        std::fs::write(
            &web_config,
            format!("tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n  {settings}\n"),
        )
        .unwrap();
        let port = testkit::free_port();
        let mut reference = start_reference(&prometheus, dir.path(), &web_config, port);
        let theirs = format!("https://127.0.0.1:{port}");
        wait_until_up(
            &variants[1].1,
            &format!("{theirs}/-/ready"),
            &mut reference,
            dir.path(),
        )
        .await;
        let (our_port, stop) = start_pharos(&web_config).await;
        let ours = format!("https://127.0.0.1:{our_port}");
        for (name, client) in &variants {
            let want = observe(client, &theirs, "GET", "/-/healthy", None).await;
            let got = observe(client, &ours, "GET", "/-/healthy", None).await;
            assert_eq!(got, want, "{settings}: client with {name}");
        }
        let _ = stop.send(());
        drop(reference);
    }
}
