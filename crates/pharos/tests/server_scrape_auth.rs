//! `pharos server` scrapes with a job's HTTP client settings: a target
//! that requires basic auth is up for the job that has the credentials and
//! down (401) for the one without; unsupported settings refuse the config.

#[path = "common/server.rs"]
mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::Engine as _;
use common::{samples, wait_until, Server};

const ONE: u64 = 0x3ff0_0000_0000_0000; // 1.0f64's bits

/// A loopback target answering 401 unless a request carries
/// `authorization`; counts (authorized, refused) requests.
struct AuthTarget {
    addr: String,
    counts: Arc<(AtomicUsize, AtomicUsize)>,
}

impl AuthTarget {
    fn serve(authorization: String) -> AuthTarget {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
        let counted = counts.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let Ok(read) = conn.try_clone() else { continue };
                let mut reader = BufReader::new(read);
                let mut line = String::new();
                let mut authorized = false;
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        authorized |= name.eq_ignore_ascii_case("authorization")
                            && value.trim() == authorization;
                    }
                    line.clear();
                }
                let body = "secret_metric 7\n";
                let _ = if authorized {
                    counted.0.fetch_add(1, Ordering::SeqCst);
                    write!(
                        conn,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    counted.1.fetch_add(1, Ordering::SeqCst);
                    write!(
                        conn,
                        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                };
                let _ = conn.flush();
                let _ = conn.shutdown(std::net::Shutdown::Write);
            }
        });
        AuthTarget { addr, counts }
    }

    fn authorized(&self) -> usize {
        self.counts.0.load(Ordering::SeqCst)
    }

    fn refused(&self) -> usize {
        self.counts.1.load(Ordering::SeqCst)
    }
}

#[test]
fn basic_auth_from_a_password_file_reaches_the_target() {
    let b64 = base64::engine::general_purpose::STANDARD.encode("scraper:s3cret");
    let target = AuthTarget::serve(format!("Basic {b64}"));
    let cfg = format!(
        concat!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n",
            "  - job_name: with_auth\n",
            "    basic_auth: {{username: scraper, password_file: pw}}\n",
            "    static_configs: [{{targets: ['{addr}']}}]\n",
            "  - job_name: without\n",
            "    static_configs: [{{targets: ['{addr}']}}]\n",
        ),
        addr = target.addr
    );
    // The password file is relative to the config file, as in Prometheus.
    let mut s = Server::start_with(Some(&cfg), &[], None, |dir| {
        std::fs::write(dir.join("pw"), "s3cret\n").expect("write password file");
    });
    // The third authorized request means the second scrape is stored.
    wait_until("scrapes with and without auth", 30, || {
        target.authorized() >= 3 && target.refused() >= 2
    });
    let dump = s.stop();
    let instance = format!("instance=\"{}\"", target.addr);
    let up = |job: &str| {
        samples(
            &dump,
            &["__name__=\"up\"", &format!("job=\"{job}\""), &instance],
        )
    };
    let with = up("with_auth");
    assert_eq!(with.len(), 1, "{:?}", dump.keys().collect::<Vec<_>>());
    assert!(with[0].1.iter().all(|&(_, v)| v == ONE), "{with:?}");
    let without = up("without");
    assert_eq!(without.len(), 1);
    assert!(
        without[0].1.iter().all(|&(_, v)| v == 0f64.to_bits()),
        "{without:?}"
    );
    let m = samples(&dump, &["secret_metric", "job=\"with_auth\""]);
    assert_eq!(m.len(), 1);
    assert!(samples(&dump, &["secret_metric", "job=\"without\""]).is_empty());
}

#[test]
fn unsupported_http_settings_refuse_the_config() {
    let cfg = concat!(
        "scrape_configs:\n  - job_name: o\n",
        "    oauth2: {client_id: a, client_secret: b, token_url: 'http://127.0.0.1:1/t'}\n",
    );
    let (status, log) = Server::run_to_exit(Some(cfg), &[]);
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains("scrape config with job name \"o\": oauth2 is not supported by pharos yet"),
        "{log}"
    );
    let cfg = "scrape_configs:\n  - job_name: c\n    tls_config: {ca_file: no-such-ca.pem}\n";
    let (status, log) = Server::run_to_exit(Some(cfg), &[]);
    assert_eq!(status.code(), Some(1), "{log}");
    assert!(
        log.contains(
            "scrape config with job name \"c\": cannot build its HTTP client: cannot read ca_file"
        ),
        "{log}"
    );
}

#[test]
fn reload_with_new_credentials_scrapes_with_them() {
    let b64 = base64::engine::general_purpose::STANDARD.encode("scraper:right");
    let target = AuthTarget::serve(format!("Basic {b64}"));
    let cfg = |password: &str| {
        format!(
            concat!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n",
                "  - job_name: j\n",
                "    basic_auth: {{username: scraper, password: {password}}}\n",
                "    static_configs: [{{targets: ['{addr}']}}]\n",
            ),
            password = password,
            addr = target.addr
        )
    };
    let s = Server::start(Some(&cfg("wrong")), &[]);
    wait_until("a refused scrape", 30, || target.refused() >= 1);
    assert_eq!(target.authorized(), 0);
    s.write_config(&cfg("right"));
    s.signal("HUP");
    wait_until("scrapes with the new password", 30, || {
        target.authorized() >= 2
    });
}
