//! `pharos tsdb dump`: every sample of the selected series in the blocks
//! and the WAL, one line each,
//! as promtool prints them: `{labels} value timestamp`, the value in Go's
//! `%g` form.

use std::io::{BufWriter, Write as _};
use std::path::Path;

use anyhow::Context as _;
use storage::Queryable as _;
use tsdb::readonly::ReadOnlyDb;

pub(super) fn run(db_path: &Path, mint: i64, maxt: i64, selector: &str) -> anyhow::Result<()> {
    let matchers = model::parse_metric_selector(selector)
        .with_context(|| format!("cannot parse selector {selector:?}"))?;
    let mut db =
        ReadOnlyDb::open(db_path).with_context(|| format!("cannot open {}", db_path.display()))?;
    db.load_head()
        .with_context(|| format!("cannot read the WAL of {}", db_path.display()))?;
    let q = db.querier(mint, maxt)?;
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut line: Vec<u8> = Vec::with_capacity(256);
    for series in q.select(true, None, &matchers)? {
        let mut series = series?;
        let labels = series.labels.to_string();
        while let Some(s) = series.samples.next() {
            line.clear();
            line.extend_from_slice(labels.as_bytes());
            line.push(b' ');
            expfmt::format_go_float(&mut line, s.v);
            writeln!(line, " {}", s.t)?;
            out.write_all(&line)?;
        }
        if let Some(e) = series.samples.err() {
            return Err(e).with_context(|| format!("cannot read samples of {labels}"));
        }
    }
    out.flush()?;
    Ok(())
}
