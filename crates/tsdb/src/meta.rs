//! A block's `meta.json`: its ULID, time range, statistics and compaction
//! history, in exactly the JSON Prometheus writes (`tsdb/block.go`,
//! `BlockMeta`), so either can open the other's blocks.
//!
//! ```json
//! {
//!     "ulid": "01M89Q6AZW5P39BBTFZYF5KYHE",
//!     "minTime": 1600000000000,
//!     "maxTime": 1600000015001,
//!     "stats": {"numSamples": 4, "numSeries": 3, "numChunks": 3},
//!     "compaction": {"level": 1, "sources": ["01M89Q6AZW5P39BBTFZYF5KYHE"]},
//!     "version": 1
//! }
//! ```
//!
//! `maxTime` is exclusive. Zero statistics, empty lists and false flags are
//! left out, as Go's `omitempty` does; `stats` and `compaction` are always
//! present. Thanos adds a `thanos` object (labels, downsampling, source);
//! pharos keeps it as raw JSON so that reading and writing a meta returns it
//! unchanged. Files are indented with tabs and have no trailing newline,
//! like Go's `json.MarshalIndent(meta, "", "\t")`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use ulid::Ulid;

/// Name of the file in a block directory.
pub const META_FILENAME: &str = "meta.json";
/// The only meta.json version there is.
pub const META_VERSION: u32 = 1;

/// What a block holds and where it came from.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// Identifies the block and names its directory.
    pub ulid: Ulid,
    /// Timestamp (ms) of the earliest sample, inclusive.
    pub min_time: i64,
    /// Timestamp (ms) past the latest sample, exclusive.
    pub max_time: i64,
    /// Counts of what the block holds.
    #[serde(default)]
    pub stats: BlockStats,
    /// How the block was made.
    #[serde(default)]
    pub compaction: BlockMetaCompaction,
    /// Format version of the meta file; always [`META_VERSION`].
    pub version: u32,
    /// Thanos's extension, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thanos: Option<Box<RawValue>>,
}

impl PartialEq for BlockMeta {
    fn eq(&self, o: &Self) -> bool {
        self.ulid == o.ulid
            && self.min_time == o.min_time
            && self.max_time == o.max_time
            && self.stats == o.stats
            && self.compaction == o.compaction
            && self.version == o.version
            && self.thanos.as_ref().map(|r| r.get()) == o.thanos.as_ref().map(|r| r.get())
    }
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// Counts of what a block holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Samples in all chunks.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_samples: u64,
    /// Series in the index.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_series: u64,
    /// Chunks in the chunk files.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_chunks: u64,
    /// Deletion intervals in the tombstones file.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_tombstones: u64,
}

/// A source block, as a compacted block records its parents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDesc {
    /// The parent's ULID.
    pub ulid: Ulid,
    /// The parent's first timestamp.
    pub min_time: i64,
    /// The parent's end timestamp (exclusive).
    pub max_time: i64,
}

/// The compaction history of a block.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMetaCompaction {
    /// 1 for a block cut from the head; each compaction adds one.
    #[serde(default)]
    pub level: u32,
    /// ULIDs of the level-1 blocks whose data this block holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Ulid>,
    /// The compaction produced no samples; delete the block on next reload.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deletable: bool,
    /// The blocks compacted directly into this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockDesc>,
    /// A compaction of this block failed; it is not compacted again.
    #[serde(default, skip_serializing_if = "is_false")]
    pub failed: bool,
    /// Free-form notes such as `from-out-of-order`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

/// Why a meta.json could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    /// The file system refused an operation.
    #[error("cannot {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid meta JSON.
    #[error("cannot parse {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The file has a version pharos does not know.
    #[error("cannot read {path}: unexpected meta file version {version}")]
    Version {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
}

impl BlockMeta {
    /// Parses meta.json bytes; `path` only names the file in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<BlockMeta, MetaError> {
        let m: BlockMeta = serde_json::from_slice(bytes).map_err(|source| MetaError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        if m.version != META_VERSION {
            return Err(MetaError::Version {
                path: path.to_path_buf(),
                version: m.version,
            });
        }
        Ok(m)
    }

    /// The meta as Prometheus formats it.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser)
            .expect("BUG: a BlockMeta always serializes");
        out
    }

    /// Reads `<dir>/meta.json`; returns the meta and the file's size.
    pub fn read(dir: &Path) -> Result<(BlockMeta, u64), MetaError> {
        let path = dir.join(META_FILENAME);
        let bytes = std::fs::read(&path).map_err(|source| MetaError::Io {
            op: "read",
            path: path.clone(),
            source,
        })?;
        Ok((Self::parse(&bytes, &path)?, bytes.len() as u64))
    }

    /// Writes `<dir>/meta.json` atomically (temporary file, fsync, rename,
    /// fsync of the directory), setting the version; returns the file's size.
    pub fn write(&mut self, dir: &Path) -> Result<u64, MetaError> {
        self.version = META_VERSION;
        let json = self.to_json();
        write_atomically(dir, META_FILENAME, &json).map_err(|source| MetaError::Io {
            op: "write",
            path: dir.join(META_FILENAME),
            source,
        })?;
        Ok(json.len() as u64)
    }
}

/// Replaces `<dir>/<name>` with `bytes` so that readers see the old or the
/// new file, never a part; used for meta.json and tombstones.
pub(crate) fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// meta.json as promtool 2.42 wrote it for a backfilled block.
    const PROMTOOL: &str = "{\n\t\"ulid\": \"01M89Q6AZW5P39BBTFZYF5KYHE\",\n\t\"minTime\": 1600000000000,\n\t\"maxTime\": 1600000015001,\n\t\"stats\": {\n\t\t\"numSamples\": 4,\n\t\t\"numSeries\": 3,\n\t\t\"numChunks\": 3\n\t},\n\t\"compaction\": {\n\t\t\"level\": 1,\n\t\t\"sources\": [\n\t\t\t\"01M89Q6AZW5P39BBTFZYF5KYHE\"\n\t\t]\n\t},\n\t\"version\": 1\n}";

    #[test]
    fn promtool_meta_round_trips_byte_for_byte() {
        let m = BlockMeta::parse(PROMTOOL.as_bytes(), Path::new("meta.json")).unwrap();
        assert_eq!(m.min_time, 1_600_000_000_000);
        assert_eq!(m.stats.num_series, 3);
        assert_eq!(m.compaction.sources, vec![m.ulid]);
        assert_eq!(String::from_utf8(m.to_json()).unwrap(), PROMTOOL);
    }

    #[test]
    fn thanos_section_is_kept() {
        let src = r#"{"ulid":"01M89Q6AZW5P39BBTFZYF5KYHE","minTime":0,"maxTime":1,"stats":{},"compaction":{"level":2},"version":1,"thanos":{"labels":{"replica":"a"},"downsample":{"resolution":0},"source":"sidecar"}}"#;
        let m = BlockMeta::parse(src.as_bytes(), Path::new("m")).unwrap();
        let again = BlockMeta::parse(&m.to_json(), Path::new("m")).unwrap();
        assert_eq!(m, again);
        assert_eq!(
            again.thanos.unwrap().get(),
            r#"{"labels":{"replica":"a"},"downsample":{"resolution":0},"source":"sidecar"}"#
        );
    }

    #[test]
    fn errors_name_the_file() {
        let check = |src: &str, want: &str| {
            let e = BlockMeta::parse(src.as_bytes(), Path::new("/b/meta.json")).unwrap_err();
            assert!(e.to_string().contains(want), "{e} lacks {want:?}");
        };
        check(
            "{",
            "cannot parse /b/meta.json: EOF while parsing an object at line 1 column 1",
        );
        check(
            r#"{"ulid":"xx","minTime":0,"maxTime":1,"version":1}"#,
            "cannot parse /b/meta.json",
        );
        check(
            r#"{"ulid":"01M89Q6AZW5P39BBTFZYF5KYHE","minTime":0,"maxTime":1,"version":2}"#,
            "unexpected meta file version 2",
        );
    }

    #[test]
    fn write_is_atomic_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = BlockMeta::parse(PROMTOOL.as_bytes(), Path::new("m")).unwrap();
        m.compaction.hints = vec!["from-out-of-order".into()];
        let n = m.write(dir.path()).unwrap();
        let (back, size) = BlockMeta::read(dir.path()).unwrap();
        assert_eq!(back, m);
        assert_eq!(size, n);
        assert!(!dir.path().join("meta.json.tmp").exists());
    }

    proptest! {
        #[test]
        fn round_trip(min in any::<i64>(), len in 0i64..1 << 40, samples in any::<u64>(), level in 1u32..10,
                      ulids in proptest::collection::vec(any::<u128>(), 0..4), failed in any::<bool>()) {
            let m = BlockMeta {
                ulid: Ulid(ulids.first().copied().unwrap_or(7)),
                min_time: min,
                max_time: min.saturating_add(len),
                stats: BlockStats { num_samples: samples, ..Default::default() },
                compaction: BlockMetaCompaction {
                    level,
                    sources: ulids.iter().map(|&u| Ulid(u)).collect(),
                    parents: ulids.iter().map(|&u| BlockDesc { ulid: Ulid(u), min_time: 1, max_time: 2 }).collect(),
                    failed,
                    ..Default::default()
                },
                version: 1,
                thanos: None,
            };
            prop_assert_eq!(BlockMeta::parse(&m.to_json(), Path::new("m")).unwrap(), m);
        }
    }
}
