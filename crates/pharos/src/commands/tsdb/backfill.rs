//! `pharos tsdb create-blocks-from openmetrics <file> [<dir>]`: promtool's
//! backfill, in one pass over the input and with blocks written in
//! parallel (see `tsdb::backfill`). Prints promtool's block table unless
//! `--quiet`, and a progress bar when stderr is a terminal.

use std::collections::HashMap;
use std::io::IsTerminal as _;
use std::path::Path;

use anyhow::{bail, Context as _};
use expfmt::{Entry, OpenMetricsParser};
use indicatif::{ProgressBar, ProgressStyle};
use model::{Labels, LabelsBuilder, METRIC_NAME};
use tsdb::backfill::{compatible_block_duration, Backfill, SeriesId};
use tsdb::block::Block;

use crate::cli::CreateBlocksFrom;

pub(super) fn run(input: &Path, output: &Path, args: &CreateBlocksFrom) -> anyhow::Result<()> {
    let body = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let bar = progress(None, "parsing");
    let backfill =
        parse(&body, &bar).with_context(|| format!("cannot import {}", input.display()))?;
    bar.finish_and_clear();

    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create output directory {}", output.display()))?;
    let duration = compatible_block_duration(args.max_block_duration.unwrap_or(0));
    let windows = backfill.windows(duration).len() as u64;
    let bar = progress(Some(windows), "writing blocks");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let metas = backfill
        .write_blocks(output, duration, threads, &|done, _| {
            bar.set_position(done as u64)
        })
        .context("cannot write blocks")?;
    bar.finish_and_clear();

    if !args.quiet && !metas.is_empty() {
        let blocks = metas
            .iter()
            .map(|m| Block::open(output.join(m.ulid.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&Block> = blocks.iter().map(|b| &**b).collect();
        print!("{}", super::print_blocks(&refs, true, args.human_readable));
    }
    Ok(())
}

/// Reads every sample of an OpenMetrics body into a [`Backfill`], interning
/// series by their text so each label set is built once.
fn parse(body: &[u8], bar: &ProgressBar) -> anyhow::Result<Backfill> {
    let mut backfill = Backfill::new();
    let mut ids: HashMap<&str, SeriesId> = HashMap::new();
    let mut builder = LabelsBuilder::new();
    let parser = OpenMetricsParser::new(body);
    let mut n = 0u64;
    for entry in parser {
        let Entry::Series(s) = entry? else {
            continue;
        };
        let Some(t) = s.timestamp() else {
            bail!("expected timestamp for series {}, got none", s.raw());
        };
        let id = match ids.get(s.raw()) {
            Some(&id) => id,
            None => {
                let labels = series_labels(&mut builder, &s)?;
                let id = backfill.add_series(labels)?;
                ids.insert(s.raw(), id);
                id
            }
        };
        backfill.add_sample(id, t, s.value());
        n += 1;
        if n % 65_536 == 0 {
            bar.set_position(n);
        }
    }
    Ok(backfill)
}

/// The label set of a parsed series; a repeated label name is refused, as
/// Prometheus's head refuses it.
fn series_labels(b: &mut LabelsBuilder, s: &expfmt::Series<'_>) -> anyhow::Result<Labels> {
    b.reset();
    b.set(METRIC_NAME, s.name());
    for l in s.labels() {
        if l.name == METRIC_NAME || b.get(&l.name).is_some() {
            bail!(
                "label name {:?} is not unique in series {}",
                l.name,
                s.raw()
            );
        }
        b.set(&l.name, &l.value);
    }
    Ok(b.build())
}

/// A progress bar on stderr when it is a terminal, hidden otherwise: a
/// counter of samples when the total is unknown, a bar when it is known.
fn progress(len: Option<u64>, what: &'static str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(n) => (
            ProgressBar::new(n),
            "{msg:>14} [{bar:40}] {pos}/{len} {elapsed}",
        ),
        None => (
            ProgressBar::no_length(),
            "{msg:>14} {spinner} {human_pos} samples {elapsed}",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    bar
}
