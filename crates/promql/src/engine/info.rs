//! `info(v, {selector})`: enriching series with the data labels of info
//! metrics (`target_info` by default) that share their identifying labels
//! (`instance`, `job`).

use model::{Labels, LabelsBuilder, MatchType, Matcher};

use super::eval::Evaluator;
use super::functions::{arg, unparen};
use super::selectors::latest;
use super::value::IVal;
use super::EngineError;
use crate::ast::{Call, Expr};

/// The labels that tie an info series to the series it describes.
const IDENTIFYING: [&str; 2] = ["instance", "job"];

impl Evaluator<'_> {
    /// The time the base series were read at: info series are matched as
    /// of it, so `@` and `offset` on the base pin the enrichment too.
    fn reference_time(&self, e: &Expr, t: i64) -> Result<i64, EngineError> {
        match e {
            Expr::VectorSelector(vs) => self.ref_time(t, vs.at, vs.offset.as_ref()),
            Expr::MatrixSelector(ms) => {
                self.ref_time(t, ms.selector.at, ms.selector.offset.as_ref())
            }
            Expr::Subquery(sq) => {
                let inner = self.ref_time(t, sq.at, sq.offset.as_ref())?;
                self.reference_time(&sq.expr, inner)
            }
            Expr::Paren(p) => self.reference_time(&p.expr, t),
            Expr::Unary(u) => self.reference_time(&u.expr, t),
            Expr::Aggregate(a) => self.reference_time(&a.expr, t),
            Expr::Binary(b) => self.reference_time(&b.lhs, t),
            Expr::Call(c) => match c.args.iter().find(|a| {
                matches!(
                    a.value_type(),
                    crate::ValueType::Vector | crate::ValueType::Matrix
                )
            }) {
                Some(a) => self.reference_time(a, t),
                None => Ok(t),
            },
            Expr::Number(_) | Expr::String(_) => Ok(t),
        }
    }

    pub(crate) fn info(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let base_expr = arg(c, 0)?;
        let base = self.eval_vector(base_expr, t)?;
        let rt = self.reference_time(base_expr, t)?;
        let matchers: Vec<Matcher> = match c.args.get(1).map(unparen) {
            Some(Expr::VectorSelector(vs)) => vs.matchers.clone(),
            _ => Vec::new(),
        };
        let (mut name_m, data_m): (Vec<Matcher>, Vec<Matcher>) =
            matchers.into_iter().partition(|m| m.name == "__name__");
        if name_m.is_empty() {
            name_m.push(Matcher::equal("__name__", "target_info"));
        }
        // Only a positive name matcher names info metrics by itself (and
        // makes a base series an info series).
        let positive = name_m
            .iter()
            .any(|m| matches!(m.match_type, MatchType::Equal | MatchType::Regex));
        // Info series present at t, latest sample first.
        let mut infos: Vec<(i64, Labels)> = self
            .fetch(&name_m)?
            .into_iter()
            .filter_map(|s| {
                // Without a positive name matcher, only `*_info` metrics
                // are info metrics.
                if !positive && !s.labels.get_or_empty("__name__").ends_with("_info") {
                    return None;
                }
                let ts = latest(&s.samples, rt, self.opts.lookback_delta_ms)?.t;
                data_m
                    .iter()
                    .all(|m| m.matches(s.labels.get_or_empty(&m.name)))
                    .then_some((ts, s.labels))
            })
            .collect();
        infos.sort_by_key(|i| std::cmp::Reverse(i.0));
        let empty_ok = data_m.iter().all(|m| m.matches(""));
        let mut out = Vec::with_capacity(base.len());
        for mut el in base {
            let name = el.labels.get_or_empty("__name__");
            if positive && name_m.iter().all(|m| m.matches(name)) {
                // An info series itself passes through unchanged.
                out.push(el);
                continue;
            }
            let mut b: LabelsBuilder = el.labels.to_builder();
            // Which info metric each added label came from.
            let mut origin: Vec<(String, String)> = Vec::new();
            let mut found = false;
            for (_, info) in &infos {
                if IDENTIFYING
                    .iter()
                    .any(|n| info.get_or_empty(n) != el.labels.get_or_empty(n))
                {
                    continue;
                }
                found = true;
                for l in info.iter() {
                    let wanted = if data_m.is_empty() {
                        l.name != "__name__" && !IDENTIFYING.contains(&l.name)
                    } else {
                        data_m.iter().any(|m| m.name == l.name)
                    };
                    if !wanted || el.labels.has(l.name) {
                        continue;
                    }
                    let from = info.get_or_empty("__name__");
                    match b.get(l.name) {
                        None => {
                            b.set(l.name, l.value);
                            origin.push((l.name.to_owned(), from.to_owned()));
                        }
                        Some(v) if v != l.value => {
                            // A later sample of the same info metric lost to the
                            // latest one; another metric disagreeing is an error.
                            let same = origin.iter().any(|(n, o)| n == l.name && o == from);
                            if !same {
                                return Err(super::eval::qerr(format!(
                                    "conflicting label: {} has different values across info metrics",
                                    l.name
                                )));
                            }
                        }
                        Some(_) => {}
                    }
                }
            }
            if !found && !empty_ok {
                continue;
            }
            el.labels = b.build();
            out.push(el);
        }
        Ok(IVal::Vector(out))
    }
}
