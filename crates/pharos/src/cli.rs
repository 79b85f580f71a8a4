//! The command line: subcommands and flags, named as promtool and the
//! Prometheus binaries name them so existing scripts keep working.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A metrics monitoring system that speaks Prometheus's formats.
#[derive(Debug, Parser)]
#[command(name = "pharos", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run TSDB commands (promtool's `tsdb` subcommands).
    #[command(subcommand)]
    Tsdb(TsdbCommand),
    /// Check the resources for validity (promtool's `check` subcommands).
    #[command(subcommand)]
    Check(CheckCommand),
    /// Run the monitoring server (`prometheus`'s flags).
    Server(Box<crate::commands::ServerArgs>),
    /// Run PromQL test scripts (Prometheus's promqltest language).
    Promqltest {
        /// Evals expected to fail, one `file:line  reason` per line; any
        /// other failure, or a listed eval that now passes, fails the run.
        #[arg(long)]
        known_failures: Option<PathBuf>,
        /// Test script files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `pharos check …`, with promtool's arguments and output.
#[derive(Debug, Subcommand)]
pub(crate) enum CheckCommand {
    /// Check if the config files are valid or not.
    Config {
        /// Only check the config file syntax, not the files it references.
        #[arg(long)]
        syntax_only: bool,
        /// Check the config file for Prometheus in agent mode.
        #[arg(long)]
        agent: bool,
        /// The config files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `pharos tsdb …`, with promtool's arguments and output formats.
#[derive(Debug, Subcommand)]
pub(crate) enum TsdbCommand {
    /// List tsdb blocks.
    List {
        /// Print human readable values.
        #[arg(short = 'r', long)]
        human_readable: bool,
        /// Database path.
        #[arg(default_value = "data/")]
        db_path: PathBuf,
    },
    /// Dump samples from a TSDB.
    Dump {
        /// Minimum timestamp to dump.
        #[arg(long, default_value_t = i64::MIN, allow_negative_numbers = true)]
        min_time: i64,
        /// Maximum timestamp to dump.
        #[arg(long, default_value_t = i64::MAX, allow_negative_numbers = true)]
        max_time: i64,
        /// Series selector.
        #[arg(long = "match", default_value = "{__name__=~'(?s:.*)'}")]
        selector: String,
        /// Database path.
        #[arg(default_value = "data/")]
        db_path: PathBuf,
    },
    /// Analyze churn, label pair cardinality and compaction efficiency.
    Analyze {
        /// How many items to show in each list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Run extended analysis.
        #[arg(long)]
        extended: bool,
        /// Database path.
        #[arg(default_value = "data/")]
        db_path: PathBuf,
        /// Block to analyze (default is the last block).
        block_id: Option<String>,
    },
    /// Import samples from input and produce TSDB blocks.
    CreateBlocksFrom(CreateBlocksFrom),
    /// Evaluate a PromQL expression over a data directory, read-only, and
    /// print the result as the HTTP API's JSON.
    Query {
        /// Evaluation time of an instant query, Unix seconds (default: now).
        #[arg(long, conflicts_with_all = ["start", "end", "step"], allow_negative_numbers = true)]
        time: Option<String>,
        /// Start of a range query, Unix seconds.
        #[arg(long, requires_all = ["end", "step"], allow_negative_numbers = true)]
        start: Option<String>,
        /// End of a range query, Unix seconds.
        #[arg(long, requires_all = ["start", "step"], allow_negative_numbers = true)]
        end: Option<String>,
        /// Step of a range query: a duration (`15s`) or seconds.
        #[arg(long, requires_all = ["start", "end"])]
        step: Option<String>,
        /// Database path.
        db_path: PathBuf,
        /// The PromQL expression.
        expr: String,
    },
}

/// `pharos tsdb create-blocks-from …`.
#[derive(Debug, Args)]
pub(crate) struct CreateBlocksFrom {
    /// Print human readable values.
    #[arg(short = 'r', long, global = true)]
    pub(crate) human_readable: bool,
    /// Do not print created blocks.
    #[arg(short = 'q', long, global = true)]
    pub(crate) quiet: bool,
    /// Maximum duration created blocks may span; anything less than 2h is ignored.
    #[arg(long, global = true, hide = true, value_parser = parse_duration_ms)]
    pub(crate) max_block_duration: Option<i64>,
    #[command(subcommand)]
    pub(crate) source: ImportSource,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImportSource {
    /// Import samples from OpenMetrics input and produce TSDB blocks.
    Openmetrics {
        /// OpenMetrics file to read samples from.
        input_file: PathBuf,
        /// Output directory for generated blocks.
        #[arg(default_value = "data/")]
        output_dir: PathBuf,
    },
}

fn parse_duration_ms(s: &str) -> Result<i64, String> {
    model::parse_duration(s)
        .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
        .map_err(|e| e.to_string())
}
