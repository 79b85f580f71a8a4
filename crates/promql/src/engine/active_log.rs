//! The active query log: a file that always holds the queries being
//! evaluated, so that the queries running when the process died (out of
//! memory, killed) can be reported at the next start. It is Prometheus's
//! `queries.active` file, in its layout, so either program reads the
//! other's:
//!
//! ```text
//! byte 0                 '['
//! slot i, 1000 bytes     at 1 + 1000·i, one per admission-gate place:
//!                        {"query":"…","timestamp_sec":1700000000}  JSON of the query
//!                        NUL padding
//!                        ','  (the slot's last byte)
//!                        an idle slot is 1000 NULs
//! ```
//!
//! Dropping the NULs and turning the trailing comma into `]` gives a JSON
//! array of the running queries. The JSON is encoded as Go's
//! `encoding/json` does (`<`, `>`, `&`, U+2028 and U+2029 escaped), and a
//! query too long for its slot is cut at a character boundary. Slots are
//! written in place with positioned writes and not synced: the page cache
//! outlives a crash of the process, which is the case the log is for.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Bytes per slot, as Prometheus.
const ENTRY_SIZE: usize = 1000;

/// Why the active query log cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ActiveQueryLogError {
    /// Reading or writing the file failed.
    #[error("cannot {op} active query log {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The log has one slot per admitted query, so it needs a bound.
    #[error("cannot keep an active query log without a concurrency limit (max_concurrency is 0)")]
    Unbounded,
}

/// The open `queries.active` file.
#[derive(Debug)]
pub(crate) struct ActiveQueryLog {
    file: Mutex<File>,
}

impl ActiveQueryLog {
    /// Reads what a previous process left at `path` (the JSON array of its
    /// unfinished queries, if there were any), then starts the file afresh
    /// with `slots` idle slots.
    pub(crate) fn open(
        path: &Path,
        slots: usize,
    ) -> Result<(ActiveQueryLog, Option<String>), ActiveQueryLogError> {
        if slots == 0 {
            return Err(ActiveQueryLogError::Unbounded);
        }
        let io = |op| {
            move |source| ActiveQueryLogError::Io {
                op,
                path: path.to_owned(),
                source,
            }
        };
        let unfinished = match File::open(path) {
            Ok(mut f) => {
                let mut old = Vec::new();
                f.read_to_end(&mut old).map_err(io("read"))?;
                unfinished(&old)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("open")(e)),
        };
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(io("create"))?;
        let mut init = vec![0u8; 1 + slots * ENTRY_SIZE];
        init[0] = b'[';
        file.write_all(&init).map_err(io("write"))?;
        file.sync_all().map_err(io("sync"))?;
        Ok((
            ActiveQueryLog {
                file: Mutex::new(file),
            },
            unfinished,
        ))
    }

    /// Writes `query` into slot `slot`, stamped with the current time.
    pub(crate) fn insert(&self, slot: usize, query: &str) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut buf = entry(query, now);
        buf.resize(ENTRY_SIZE - 1, 0);
        buf.push(b',');
        self.write_slot(slot, &buf);
    }

    /// Marks slot `slot` idle.
    pub(crate) fn remove(&self, slot: usize) {
        self.write_slot(slot, &[0u8; ENTRY_SIZE]);
    }

    // A failed write loses one line of a crash report, never a query, so
    // it is not reported (Prometheus's in-memory map cannot fail at all).
    fn write_slot(&self, slot: usize, bytes: &[u8]) {
        let mut f = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let at = 1 + (slot * ENTRY_SIZE) as u64;
        let _ = f.seek(SeekFrom::Start(at)).and_then(|_| f.write_all(bytes));
    }
}

/// The JSON entry of `query` at `ts` seconds, at most `ENTRY_SIZE - 1`
/// bytes: the query is cut at the last character that fits.
fn entry(query: &str, ts: u64) -> Vec<u8> {
    let (head, tail) = (r#"{"query":""#, format!(r#"","timestamp_sec":{ts}}}"#));
    let room = (ENTRY_SIZE - 1).saturating_sub(head.len() + tail.len());
    let mut out = String::with_capacity(ENTRY_SIZE);
    out.push_str(head);
    push_go_json_chars(&mut out, query, head.len() + room);
    out.push_str(&tail);
    out.into_bytes()
}

/// Appends the characters of `s`, escaped as Go's `encoding/json` escapes
/// a string, while `out` stays within `limit` bytes.
fn push_go_json_chars(out: &mut String, s: &str, limit: usize) {
    let mut esc = String::new();
    for c in s.chars() {
        esc.clear();
        match c {
            '"' => esc.push_str("\\\""),
            '\\' => esc.push_str("\\\\"),
            '\n' => esc.push_str("\\n"),
            '\r' => esc.push_str("\\r"),
            '\t' => esc.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                esc.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => esc.push_str(&format!("\\u{:04x}", c as u32)),
            c => esc.push(c),
        }
        if out.len() + esc.len() > limit {
            return;
        }
        out.push_str(&esc);
    }
}

/// The JSON array of the queries a previous process's log holds, if any.
fn unfinished(old: &[u8]) -> Option<String> {
    let mut text: Vec<u8> = old.iter().copied().filter(|&b| b != 0).collect();
    // "[" alone, or nothing: no query was running.
    if text.len() <= 1 {
        return None;
    }
    if let Some(last) = text.last_mut() {
        *last = b']';
    }
    Some(String::from_utf8_lossy(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_queries_survive_into_the_next_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("queries.active");
        let (log, none) = ActiveQueryLog::open(&path, 3).expect("open");
        assert_eq!(none, None);
        log.insert(0, "up");
        log.insert(2, r#"rate(x{a="<&>"}[5m])"#);
        log.insert(1, "gone");
        log.remove(1);
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len(), 3001);
        assert_eq!(bytes[1000], b',');
        assert!(bytes[1001..2001].iter().all(|&b| b == 0));
        drop(log);
        let (_log, left) = ActiveQueryLog::open(&path, 3).expect("reopen");
        let left = left.expect("two queries were running");
        let v: serde_json::Value = serde_json::from_str(&left).expect("JSON array");
        assert_eq!(v[0]["query"], "up");
        assert_eq!(v[1]["query"], r#"rate(x{a="<&>"}[5m])"#);
        assert!(v[1]["timestamp_sec"]
            .as_u64()
            .is_some_and(|t| t > 1_600_000_000));
        assert!(left.contains(r#"\u003c\u0026\u003e"#), "{left}");
        // The fresh file holds nothing.
        assert_eq!(unfinished(&std::fs::read(&path).expect("read")), None);
    }

    #[test]
    fn a_long_query_is_cut_to_its_slot() {
        let q = "é<".repeat(400);
        let e = entry(&q, 1_700_000_000);
        assert!(e.len() < ENTRY_SIZE, "{}", e.len());
        let v: serde_json::Value = serde_json::from_slice(&e).expect("valid JSON");
        let got = v["query"].as_str().expect("string");
        // 8 bytes of JSON for every 3 of query ("é\\u003c").
        assert!(q.starts_with(got) && got.len() > 340, "{}", got.len());
        let short = entry("a\"b\\c\n", 7);
        assert_eq!(short, br#"{"query":"a\"b\\c\n","timestamp_sec":7}"#);
    }

    #[test]
    fn no_slots_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = ActiveQueryLog::open(&dir.path().join("q"), 0);
        assert!(matches!(r, Err(ActiveQueryLogError::Unbounded)));
    }
}
