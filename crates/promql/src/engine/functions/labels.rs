//! The label functions: `label_replace`, `label_join`, and the natural
//! order `sort_by_label` uses.

use super::{arg, invalid_utf8};
use crate::ast::Call;
use crate::engine::eval::{qerr, Evaluator};
use crate::engine::value::IVal;
use crate::engine::EngineError;

impl Evaluator<'_> {
    pub(super) fn strings(
        &mut self,
        c: &Call,
        from: usize,
        t: i64,
    ) -> Result<Vec<String>, EngineError> {
        let mut out = Vec::new();
        for a in c.args.iter().skip(from) {
            match self.eval(a, t)? {
                IVal::Str(s) => out.push(s),
                _ => return Err(qerr(format!("{} needs string arguments", c.func.name))),
            }
        }
        Ok(out)
    }

    pub(super) fn label_replace(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let v = self.eval_vector(arg(c, 0)?, t)?;
        if let Some(bad) = invalid_utf8(arg(c, 1)?) {
            return Err(qerr(format!(
                "invalid destination label name in label_replace(): {bad}"
            )));
        }
        let s = self.strings(c, 1, t)?;
        let [dst, repl, src, re] = s.as_slice() else {
            return Err(qerr("label_replace needs 5 arguments"));
        };
        // Prometheus's text names only the expression (the parser's
        // explanation spans several lines).
        let re = regex::Regex::new(&format!("^(?s:{re})$")).map_err(|_| {
            qerr(format!(
                "invalid regular expression in label_replace(): {re}"
            ))
        })?;
        if !model::labels::is_valid_utf8_name(dst) || dst.is_empty() {
            return Err(qerr(format!(
                "invalid destination label name in label_replace(): {dst}"
            )));
        }
        let mut out = Vec::with_capacity(v.len());
        for mut el in v {
            let val = el.labels.get_or_empty(src).to_owned();
            if let Some(caps) = re.captures(&val) {
                let mut res = String::new();
                caps.expand(repl, &mut res);
                let mut b = el.labels.to_builder();
                b.set(dst, &res);
                el.labels = b.build();
                if dst == "__name__" {
                    el.drop_name = false;
                }
            }
            out.push(el);
        }
        Ok(IVal::Vector(out))
    }

    pub(super) fn label_join(&mut self, c: &Call, t: i64) -> Result<IVal, EngineError> {
        let v = self.eval_vector(arg(c, 0)?, t)?;
        let s = self.strings(c, 1, t)?;
        let [dst, sep, srcs @ ..] = s.as_slice() else {
            return Err(qerr("label_join needs at least 3 arguments"));
        };
        if !model::labels::is_valid_utf8_name(dst) || dst.is_empty() {
            return Err(qerr(format!(
                "invalid destination label name in label_join(): {dst}"
            )));
        }
        let mut out = Vec::with_capacity(v.len());
        for mut el in v {
            let joined: Vec<&str> = srcs.iter().map(|n| el.labels.get_or_empty(n)).collect();
            let joined = joined.join(sep);
            let mut b = el.labels.to_builder();
            b.set(dst, &joined);
            el.labels = b.build();
            if dst == "__name__" {
                el.drop_name = false;
            }
            out.push(el);
        }
        Ok(IVal::Vector(out))
    }
}

/// Compares strings with runs of digits compared as numbers ("a2" < "a10"),
/// as Prometheus's `sort_by_label` does.
pub(super) fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let nx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let ny = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (dx, dy) = (&x[..nx], &y[..ny]);
                let tx = dx.iter().skip_while(|&&c| c == b'0').count();
                let ty = dy.iter().skip_while(|&&c| c == b'0').count();
                let o = tx
                    .cmp(&ty)
                    .then_with(|| dx[nx - tx..].cmp(&dy[ny - ty..]))
                    .then_with(|| nx.cmp(&ny));
                if o.is_ne() {
                    return o;
                }
                x = &x[nx..];
                y = &y[ny..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers() {
        assert!(natural_cmp("a2", "a10").is_lt());
        assert!(natural_cmp("1.11.3", "1.111.3").is_lt());
        assert!(natural_cmp("b", "a10").is_gt());
        assert!(natural_cmp("x", "x").is_eq());
    }
}
