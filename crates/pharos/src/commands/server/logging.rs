//! The server's log lines, `--log.format=logfmt` (Prometheus 3's default,
//! `time=… level=INFO source=… msg="…" key=value`) or `json`, at
//! `--log.level` and above, on stderr.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::flags::{LogFormat, LogLevel};

/// Installs the global logger (once; later calls change nothing).
pub(crate) fn init(level: LogLevel, format: LogFormat) {
    let level = match level {
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Error => tracing::Level::ERROR,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Logfmt => builder.event_format(Logfmt).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// One logfmt line per event.
pub(crate) struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("time=")?;
        SystemTime.format_time(&mut writer)?;
        write!(writer, " level={} source={}", meta.level(), meta.target())?;
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        writer.write_str(&fields.0)?;
        writeln!(writer)
    }
}

/// The event's fields as ` key=value` pairs, `message` as `msg`.
struct Fields(String);

impl Fields {
    fn push(&mut self, field: &Field, value: &str) {
        let key = match field.name() {
            "message" => "msg",
            k => k,
        };
        let plain = !value.is_empty()
            && value
                .chars()
                .all(|c| c > ' ' && c != '"' && c != '=' && c != '\\' && c != '\u{7f}');
        // Debug quoting escapes `"`, `\` and control characters as logfmt
        // readers expect.
        let _ = if plain {
            write!(self.0, " {key}={value}")
        } else {
            write!(self.0, " {key}={value:?}")
        };
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, &format!("{value:?}"));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn logfmt_lines() {
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .event_format(Logfmt)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(file = "a b.yml", n = 3, empty = "", "Completed loading");
            tracing::warn!(reason = %"say \"no\"", "plain");
        });
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let tail = |l: &str| l.split_once(" level=").map(|(_, t)| t.to_owned()).unwrap();
        assert!(lines[0].starts_with("time=20"), "{}", lines[0]);
        assert_eq!(
            tail(lines[0]),
            format!(
                "INFO source={} msg=\"Completed loading\" file=\"a b.yml\" n=3 empty=\"\"",
                module_path!()
            )
        );
        assert_eq!(
            tail(lines[1]),
            format!(
                "WARN source={} msg=plain reason=\"say \\\"no\\\"\"",
                module_path!()
            )
        );
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
