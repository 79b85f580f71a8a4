//! A tiny HTTP/1.1 server for scrape tests: serves whatever response the
//! test sets, one request per connection, and records the requests.

// Each test crate uses a part of the server.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server answers.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub(crate) status: &'static str,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
    /// Send the body gzip-compressed with `Content-Encoding: gzip`.
    pub(crate) gzip: bool,
    /// Wait this long before answering.
    pub(crate) delay: Duration,
}

impl Reply {
    pub(crate) fn text(body: &str) -> Reply {
        Reply {
            status: "200 OK",
            content_type: "text/plain; version=0.0.4; charset=utf-8".into(),
            body: body.as_bytes().to_vec(),
            gzip: false,
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn openmetrics(body: &str) -> Reply {
        Reply {
            content_type: "application/openmetrics-text; version=1.0.0; charset=utf-8".into(),
            ..Reply::text(body)
        }
    }
}

/// Replies served in turn on one path, and when (ms since the epoch) each
/// request arrived.
type Sequence = (Vec<Reply>, Vec<i64>);

/// A running server on 127.0.0.1.
#[derive(Clone)]
pub(crate) struct TestServer {
    pub(crate) addr: String,
    reply: Arc<Mutex<Reply>>,
    requests: Arc<Mutex<Vec<String>>>,
    /// Per path: replies served in turn, and how many were asked for.
    sequences: Arc<Mutex<HashMap<String, Sequence>>>,
}

impl TestServer {
    /// Starts serving `reply` on the current runtime.
    pub(crate) async fn start(reply: Reply) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let server = TestServer {
            addr,
            reply: Arc::new(Mutex::new(reply)),
            requests: Arc::new(Mutex::new(Vec::new())),
            sequences: Arc::new(Mutex::new(HashMap::new())),
        };
        let s = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let mut req = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => req.extend_from_slice(&buf[..n]),
                        }
                    }
                    s.requests
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&req).into_owned());
                    let path = String::from_utf8_lossy(&req)
                        .split(' ')
                        .nth(1)
                        .unwrap_or("")
                        .to_owned();
                    let reply = s.reply_for(&path);
                    tokio::time::sleep(reply.delay).await;
                    let body = if reply.gzip {
                        use std::io::Write;
                        let mut e = flate2::write::GzEncoder::new(
                            Vec::new(),
                            flate2::Compression::default(),
                        );
                        e.write_all(&reply.body).unwrap();
                        e.finish().unwrap()
                    } else {
                        reply.body.clone()
                    };
                    let mut head = format!(
                        "HTTP/1.1 {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                        reply.status,
                        body.len()
                    );
                    if !reply.content_type.is_empty() {
                        head.push_str(&format!("Content-Type: {}\r\n", reply.content_type));
                    }
                    if reply.gzip {
                        head.push_str("Content-Encoding: gzip\r\n");
                    }
                    head.push_str("\r\n");
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        server
    }

    /// Serves `replies` in turn on `path`; once they are used up, requests
    /// to it hang for a minute (so a scraper's next scrape never finishes).
    pub(crate) fn set_sequence(&self, path: &str, replies: Vec<Reply>) {
        self.sequences
            .lock()
            .unwrap()
            .insert(path.to_owned(), (replies, Vec::new()));
    }

    /// When the requests to a sequence `path` arrived, in ms since the epoch.
    pub(crate) fn arrivals(&self, path: &str) -> Vec<i64> {
        self.sequences
            .lock()
            .unwrap()
            .get(path)
            .map_or_else(Vec::new, |s| s.1.clone())
    }

    fn reply_for(&self, path: &str) -> Reply {
        let mut seqs = self.sequences.lock().unwrap();
        let Some((replies, arrivals)) = seqs.get_mut(path) else {
            return self.reply.lock().unwrap().clone();
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        arrivals.push(now.as_millis() as i64);
        match replies.get(arrivals.len() - 1) {
            Some(r) => r.clone(),
            None => Reply {
                delay: Duration::from_secs(60),
                ..Reply::text("")
            },
        }
    }

    /// Answers `reply` from now on.
    pub(crate) fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    /// The requests received so far, as raw head text.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}
