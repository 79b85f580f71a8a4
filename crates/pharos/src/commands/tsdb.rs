//! `pharos tsdb …`: promtool's TSDB commands, with its arguments and its
//! output, byte for byte where the output is deterministic.

mod analyze;
mod backfill;
mod dump;
mod list;
mod query;

use std::io::Write as _;
use std::process::ExitCode;

use crate::cli::{ImportSource, TsdbCommand};
use crate::gofmt::{go_base2_bytes, go_duration_ms, go_utc_time_secs, tabwrite};

/// Runs a `tsdb` subcommand.
pub(crate) fn run(cmd: TsdbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TsdbCommand::List {
            human_readable,
            db_path,
        } => list::run(&db_path, human_readable),
        TsdbCommand::Dump {
            min_time,
            max_time,
            selector,
            db_path,
        } => dump::run(&db_path, min_time, max_time, &selector),
        TsdbCommand::Analyze {
            limit,
            extended,
            db_path,
            block_id,
        } => analyze::run(&db_path, block_id.as_deref(), limit, extended),
        TsdbCommand::Query {
            time,
            start,
            end,
            step,
            db_path,
            expr,
        } => query::run(&db_path, &expr, query_when(time, start, end, step)?),
        TsdbCommand::CreateBlocksFrom(args) => match &args.source {
            ImportSource::Openmetrics {
                input_file,
                output_dir,
            } => backfill::run(input_file, output_dir, &args),
        },
    }?;
    std::io::stdout().flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The instant or range of `pharos tsdb query`; an instant query without
/// `--time` runs now.
fn query_when(
    time: Option<String>,
    start: Option<String>,
    end: Option<String>,
    step: Option<String>,
) -> anyhow::Result<query::When> {
    let secs = |s: &str| query::parse_time_secs(s).map_err(anyhow::Error::msg);
    Ok(match (time, start, end, step) {
        (_, Some(start), Some(end), Some(step)) => query::When::Range {
            start: secs(&start)?,
            end: secs(&end)?,
            step: query::parse_step(&step).map_err(anyhow::Error::msg)?,
        },
        (Some(t), ..) => query::When::Instant(secs(&t)?),
        _ => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64);
            query::When::Instant(now)
        }
    })
}

/// promtool's block table: a header (when asked) and a row per block.
fn print_blocks(blocks: &[&tsdb::block::Block], header: bool, human: bool) -> String {
    let mut rows = Vec::new();
    if header {
        rows.push(
            [
                "BLOCK ULID",
                "MIN TIME",
                "MAX TIME",
                "DURATION",
                "NUM SAMPLES",
                "NUM CHUNKS",
                "NUM SERIES",
                "SIZE",
            ]
            .map(String::from)
            .to_vec(),
        );
    }
    let time = |t: i64| {
        if human {
            go_utc_time_secs(t)
        } else {
            t.to_string()
        }
    };
    for b in blocks {
        let m = b.meta();
        let size = i64::try_from(b.size()).unwrap_or(i64::MAX);
        rows.push(vec![
            m.ulid.to_string(),
            time(m.min_time),
            time(m.max_time),
            go_duration_ms(m.max_time - m.min_time),
            m.stats.num_samples.to_string(),
            m.stats.num_chunks.to_string(),
            m.stats.num_series.to_string(),
            if human {
                go_base2_bytes(size)
            } else {
                size.to_string()
            },
        ]);
    }
    tabwrite(&rows, 13, 2)
}
