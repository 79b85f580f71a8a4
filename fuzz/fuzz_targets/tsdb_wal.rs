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

/// A one-record segment as the writer lays it out: one full fragment.
fn valid_segment(rec: &[u8]) -> Vec<u8> {
    let len = u16::try_from(rec.len()).expect("BUG: seed record fits a fragment");
    let mut seg = vec![1];
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(&crc32c(rec).to_be_bytes());
    seg.extend_from_slice(rec);
    seg
}

/// CRC-32C, bitwise: the fuzz crate has no CRC dependency and this runs once
/// per input on a few bytes.
fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0x82F6_3B78 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// How the WAL directory is repaired.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// `Wal::open` with this scope repairs what it finds.
    Open(RepairScope),
    /// `Wal::open` (last segment only) finds nothing; a full replay finds
    /// the corruption and hands it to `Wal::repair`.
    Replay,
}

/// Lays `segments` out as a WAL, reads it, repairs it as `mode` says, and
/// checks that the repaired WAL keeps every record read before the
/// corruption, takes a new one, and reads cleanly.
fn check(segments: &[&[u8]], mode: Mode) {
    let dir = scratch();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("cannot create the fuzz scratch directory");
    for (i, seg) in segments.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:08}")), seg).expect("cannot write the fuzz segment");
    }

    let (before, err) = read_all(dir);
    // A zstd record is unsupported, not corrupt: repair refuses to cut it.
    let zstd = matches!(err, Some(WalError::ZstdUnsupported { .. }));

    let opts = WalOptions {
        segment_size: 4 * PAGE_SIZE as u64,
        compression: Compression::Snappy,
        repair_scope: match mode {
            Mode::Open(scope) => scope,
            Mode::Replay => RepairScope::LastSegment,
        },
    };
    let (mut wal, repair) = match Wal::open(dir, opts) {
        Ok(w) => w,
        Err(e) if zstd => {
            let _ = e.to_string();
            return;
        }
        Err(e) => panic!("{mode:?}: open with repair failed on a non-zstd WAL: {e}"),
    };
    if let Some(r) = &repair {
        let _ = r.to_string();
    }
    match (mode, &err) {
        (Mode::Open(_), _) => assert_eq!(
            repair.is_some(),
            err.is_some(),
            "{mode:?}: repair iff the read failed: {err:?}"
        ),
        (Mode::Replay, Some(WalError::Corrupt(c))) => {
            assert!(
                repair.is_none(),
                "the last segment is valid, yet open repaired it"
            );
            let r = wal
                .repair(c)
                .expect("cannot repair a corruption the replay found");
            let _ = r.to_string();
        }
        // Unsupported, not corrupt: nothing to repair.
        (Mode::Replay, Some(_)) if zstd => return,
        (Mode::Replay, Some(e)) => panic!("{mode:?}: unexpected error {e}"),
        (Mode::Replay, None) => {}
    }
    wal.log(&[b"after repair"])
        .expect("cannot log after repair");
    wal.close().expect("cannot close after repair");

    let (after, err) = read_all(dir);
    assert!(
        err.is_none(),
        "{mode:?}: reading after the repair failed: {err:?}"
    );
    // Everything read before the corruption (or all, with none), then the
    // new record: in replay mode a corrupt first segment takes the valid
    // second one with it, which the first read never reached either.
    assert_eq!(
        after.len(),
        before.len() + 1,
        "{mode:?}: repair lost or invented records"
    );
    assert!(
        after[..before.len()] == before[..],
        "{mode:?}: repair changed a kept record"
    );
    assert_eq!(after.last().map(Vec::as_slice), Some(&b"after repair"[..]));
}

fuzz_target!(|data: &[u8]| {
    // The bytes as the last segment, after an empty one.
    check(&[b"", data], Mode::Open(RepairScope::LastSegment));
    // The bytes twice: a corruption in the first drops the second.
    check(&[data, data], Mode::Open(RepairScope::AllSegments));
    // The bytes before a valid segment, repaired after a replay.
    check(&[data, &valid_segment(b"valid")], Mode::Replay);
});
