//! Any bytes as chunk data, three ways: as a whole chunk segment file (read
//! through `ChunkReader`, every XOR chunk decoded), as raw XOR chunk bytes
//! (iterated, and seeked), and as a chunk to resume appending to.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tsdb::chunkenc::{Encoding, XorChunk, XorIter};
use tsdb::chunks::ChunkReader;

/// A directory of this process's own, reused by every input.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("pharos-fuzz-chunks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("cannot create the fuzz scratch directory");
        dir
    })
}

/// Iterates `it` to the end; the samples it yields and its error state
/// must agree with its sample count.
/// Samples come back as `(t, value bits)` so NaNs compare equal.
fn walk(mut it: XorIter<'_>) -> Vec<(i64, u64)> {
    let n = it.num_samples();
    let mut out = Vec::new();
    while let Some(s) = it.next() {
        assert_eq!(it.at().0, s.0, "at() must be the sample last returned");
        out.push((s.0, s.1.to_bits()));
    }
    if it.error().is_none() {
        assert_eq!(
            out.len(),
            usize::from(n),
            "clean iteration must yield every sample"
        );
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // 1. A segment file.
    let dir = scratch();
    std::fs::write(dir.join("000001"), data).expect("cannot write the fuzz segment");
    if let Ok(r) = ChunkReader::open(dir) {
        let _ = (r.segment_count(), r.size());
        for c in r.segment_chunks(0).take(10_000) {
            let Ok((cref, chunk)) = c else { break };
            let again = r
                .chunk(cref)
                .expect("a chunk the walk found must read by ref");
            assert_eq!(again, chunk);
            if chunk.encoding == Encoding::Xor {
                if let Ok(it) = chunk.float_iter() {
                    walk(it);
                }
            }
        }
        let _ = r.segment_chunks(1).next();
        let _ = r.chunk(0);
        let _ = r.chunk(u64::MAX);
    }

    // 2. Raw XOR bytes: iterate, then seek to each sample found and past them.
    if let Ok(it) = XorIter::new(data) {
        let samples = walk(it);
        for &(t, _) in samples.iter().take(64) {
            let mut it = XorIter::new(data).expect("BUG: accepted once");
            let _ = it.seek(t);
            let _ = it.next();
            let _ = it.seek(i64::MIN);
        }
        let mut it = XorIter::new(data).expect("BUG: accepted once");
        let _ = it.seek(i64::MAX);
        let _ = it.next();
    }

    // 3. Resume appending: the chunk must then hold one more sample, last.
    if let Ok(mut c) = XorChunk::from_bytes(data.to_vec()) {
        let before = walk(c.iter());
        assert_eq!(before.len(), usize::from(c.num_samples()));
        if !c.is_full() {
            let t = c.last().map_or(Some(0), |(t, _)| t.checked_add(15_000));
            if let Some(t) = t {
                c.append(t, 1.5);
                let after = walk(c.iter());
                assert_eq!(after.len(), before.len() + 1);
                assert_eq!(
                    &after[..before.len()],
                    &before[..],
                    "appending changed earlier samples"
                );
                assert_eq!(after.last().copied(), Some((t, 1.5f64.to_bits())));
            }
        }
    }
});
