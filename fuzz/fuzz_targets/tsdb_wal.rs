//! Any bytes as a WAL segment: read with `WalReader`, every record decoded
//! with the `record` decoders; then the same bytes as the last segment of a
//! WAL opened with repair, after which the WAL must read cleanly, keep every
//! record read before the corruption, and take a new record.

#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tsdb::record::{self, RecordType};
use tsdb::wal::{Compression, RepairScope, Wal, WalError, WalOptions, WalReader, PAGE_SIZE};

/// A directory of this process's own, emptied for every input. tmpfs when
/// there is one, since the repair fsyncs.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        base.join(format!("pharos-fuzz-wal-{}", std::process::id()))
    })
}

/// Reads every record of `dir`; the records and the error that stopped it.
fn read_all(dir: &Path) -> (Vec<Vec<u8>>, Option<WalError>) {
    let mut r = WalReader::open(dir, None, None).expect("cannot list the fuzz WAL");
    let mut out = Vec::new();
    while let Some(rec) = r.next() {
        match rec {
            Ok(rec) => {
                decode(rec);
                out.push(rec.to_vec());
            }
            Err(e) => return (out, Some(e)),
        }
        let _ = r.position();
    }
    (out, None)
}

/// Decodes a record with the decoder of its type (and, since a decoder
/// must refuse a record of another type cleanly, with all the others).
fn decode(rec: &[u8]) {
    let _ = RecordType::of(rec).map(|t| (t.name(), t.is_supported()));
    let _ = RecordType::of_supported(rec);
    let _ = record::decode_series(rec, &mut Vec::new());
    let _ = record::decode_samples(rec, &mut Vec::new());
    let _ = record::decode_tombstones(rec, &mut Vec::new());
    let _ = record::decode_exemplars(rec, &mut Vec::new());
    let _ = record::decode_mmap_markers(rec, &mut Vec::new());
    let _ = record::decode_metadata(rec, &mut Vec::new());
}

fuzz_target!(|data: &[u8]| {
    let dir = scratch();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("cannot create the fuzz scratch directory");
    // An empty first segment, so the bytes are the last of two.
    std::fs::write(dir.join("00000000"), b"").expect("cannot write the fuzz segment");
    std::fs::write(dir.join("00000001"), data).expect("cannot write the fuzz segment");

    let (before, err) = read_all(dir);
    // A zstd record is unsupported, not corrupt: repair refuses to cut it.
    let zstd = matches!(err, Some(WalError::ZstdUnsupported { .. }));

    let opts = WalOptions {
        segment_size: 4 * PAGE_SIZE as u64,
        compression: Compression::Snappy,
        repair_scope: RepairScope::LastSegment,
    };
    let (mut wal, repair) = match Wal::open(dir, opts) {
        Ok(w) => w,
        Err(e) if zstd => {
            let _ = e.to_string();
            return;
        }
        Err(e) => panic!("open with repair failed on a non-zstd WAL: {e}"),
    };
    assert_eq!(
        repair.is_some(),
        err.is_some(),
        "repair iff the read failed: {err:?}"
    );
    if let Some(r) = &repair {
        let _ = r.to_string();
    }
    wal.log(&[b"after repair"])
        .expect("cannot log after repair");
    wal.close().expect("cannot close after repair");

    let (after, err) = read_all(dir);
    assert!(err.is_none(), "reading after the repair failed: {err:?}");
    assert_eq!(
        after.len(),
        before.len() + 1,
        "repair lost or invented records"
    );
    assert!(
        after[..before.len()] == before[..],
        "repair changed a kept record"
    );
    assert_eq!(after.last().map(Vec::as_slice), Some(&b"after repair"[..]));
});
