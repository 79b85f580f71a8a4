//! Which parser reads a body, from its `Content-Type` (Prometheus's
//! `extractMediaType`, with its messages).

use crate::ScrapeError;

/// An exposition format pharos reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text 0.0.4 / 1.0.0.
    Text,
    /// OpenMetrics 0.0.1 / 1.0.0.
    OpenMetrics,
}

const PROTOBUF: &str = "application/vnd.google.protobuf";

impl Format {
    /// The format of a body with header `content_type`; `fallback` (a bare
    /// media type) is used when the header is missing or unknown.
    pub(crate) fn detect(
        content_type: &str,
        fallback: Option<&str>,
    ) -> Result<Format, ScrapeError> {
        let media = if content_type.is_empty() {
            match fallback {
                Some(f) => f.to_owned(),
                None => return Err(ScrapeError::ContentType(
                    "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target".to_owned(),
                )),
            }
        } else {
            match media_type(content_type) {
                Some(m) if known(&m) => m,
                Some(_) => match fallback {
                    Some(f) => f.to_owned(),
                    None => return Err(ScrapeError::ContentType(format!(
                        "received unsupported Content-Type {content_type:?} and no fallback_scrape_protocol specified for target"
                    ))),
                },
                None => match fallback {
                    Some(f) => f.to_owned(),
                    None => return Err(ScrapeError::ContentType(format!(
                        "cannot parse Content-Type {content_type:?} and no fallback_scrape_protocol for target\nmime: expected slash after first token"
                    ))),
                },
            }
        };
        match media.as_str() {
            "text/plain" => Ok(Format::Text),
            "application/openmetrics-text" => Ok(Format::OpenMetrics),
            _ => Err(ScrapeError::Protobuf(content_type.to_owned())),
        }
    }
}

fn known(media: &str) -> bool {
    matches!(
        media,
        "text/plain" | "application/openmetrics-text" | PROTOBUF
    )
}

/// The lower-cased `type/subtype` before any parameters, `None` when it is
/// not a token, a slash and a token (as Go's `mime.ParseMediaType` refuses).
fn media_type(content_type: &str) -> Option<String> {
    let bare = content_type.split(';').next().unwrap_or("").trim();
    let (ty, sub) = bare.split_once('/')?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&c))
    };
    (token(ty) && token(sub)).then(|| bare.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ct: &str, fallback: Option<&str>, want: Result<Format, &str>) {
        let got = Format::detect(ct, fallback).map_err(|e| e.to_string());
        assert_eq!(got, want.map_err(str::to_owned), "{ct:?}");
    }

    #[test]
    fn content_types() {
        check(
            "text/plain; version=0.0.4; charset=utf-8",
            None,
            Ok(Format::Text),
        );
        check(
            "application/openmetrics-text; version=1.0.0",
            None,
            Ok(Format::OpenMetrics),
        );
        check("Text/Plain", None, Ok(Format::Text));
        check("", Some("text/plain"), Ok(Format::Text));
        check(
            "text/html",
            Some("application/openmetrics-text"),
            Ok(Format::OpenMetrics),
        );
        check("", None, Err("non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target"));
        check("text/html", None, Err("received unsupported Content-Type \"text/html\" and no fallback_scrape_protocol specified for target"));
        check("garbage", None, Err("cannot parse Content-Type \"garbage\" and no fallback_scrape_protocol for target\nmime: expected slash after first token"));
        check(
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily",
            Some("text/plain"),
            Err("cannot parse Content-Type \"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily\": the protobuf exposition format is not supported yet"),
        );
    }
}
