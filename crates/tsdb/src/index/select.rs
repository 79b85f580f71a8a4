//! Series selection: from a query's label matchers to the postings of the
//! series they select, with Prometheus's semantics (`PostingsForMatchers`,
//! 2.42). A matcher that accepts the empty string also selects series
//! without the label, so it cannot be answered by a union of postings; it
//! becomes a subtraction of the series whose value it rejects.

use model::{MatchType, Matcher};

use super::postings::{intersect, without, BoxPostings, EmptyPostings};
use super::{IndexError, IndexReader};

/// What matcher evaluation needs from an index: the values of a label and the
/// series having some of them. Implemented by block indexes and the head.
pub trait PostingsSource {
    /// The values of label `name`, sorted; empty when no series has it.
    fn label_values(&self, name: &str) -> Result<Vec<&str>, IndexError>;

    /// The union of the postings of `name=v` for each `v` in `values`
    /// (in any order; unknown values are skipped). The empty name and value
    /// stand for every series.
    fn postings(&self, name: &str, values: &[&str]) -> Result<BoxPostings<'_>, IndexError>;
}

impl PostingsSource for IndexReader {
    fn label_values(&self, name: &str) -> Result<Vec<&str>, IndexError> {
        IndexReader::label_values(self, name)
    }

    fn postings(&self, name: &str, values: &[&str]) -> Result<BoxPostings<'_>, IndexError> {
        IndexReader::postings(self, name, values)
    }
}

/// The series selected by all of `ms`, ascending.
pub fn postings_for_matchers<'a, S: PostingsSource + ?Sized>(
    ix: &'a S,
    ms: &[Matcher],
) -> Result<BoxPostings<'a>, IndexError> {
    let mut its: Vec<BoxPostings<'a>> = Vec::new();
    let mut not_its: Vec<BoxPostings<'a>> = Vec::new();
    // A label some matcher requires to be non-empty: matchers on it that
    // accept "" need not consider series without the label.
    let must_be_set = |name: &str| ms.iter().any(|m| m.name == name && !m.matches_empty());

    for m in ms {
        if m.name.is_empty() && m.value.is_empty() {
            its.push(ix.postings("", &[""])?);
            continue;
        }
        let matches_empty = m.matches_empty();
        let is_not = matches!(m.match_type, MatchType::NotEqual | MatchType::NotRegex);
        if must_be_set(&m.name) {
            if is_not && matches_empty {
                // l!="foo": subtract the series where l="foo".
                not_its.push(postings_for_matcher(ix, &inverse(m)?)?);
            } else if is_not {
                // l!="" (or l!~"" and the like): series whose value the
                // inverse rejects.
                let it = inverse_postings_for_matcher(ix, &inverse(m)?)?;
                if it.is_known_empty() {
                    return Ok(Box::new(EmptyPostings));
                }
                its.push(it);
            } else {
                let it = postings_for_matcher(ix, m)?;
                if it.is_known_empty() {
                    return Ok(Box::new(EmptyPostings));
                }
                its.push(it);
            }
        } else {
            // Selects series without the label too: subtract those with a
            // value the matcher rejects.
            not_its.push(inverse_postings_for_matcher(ix, m)?);
        }
    }

    if its.is_empty() && !not_its.is_empty() {
        its.push(ix.postings("", &[""])?);
    }
    let mut it = intersect(its);
    for n in not_its {
        it = without(it, n);
    }
    Ok(it)
}

/// The matcher selecting exactly the values `m` rejects.
fn inverse(m: &Matcher) -> Result<Matcher, IndexError> {
    let t = match m.match_type {
        MatchType::Equal => MatchType::NotEqual,
        MatchType::NotEqual => MatchType::Equal,
        MatchType::Regex => MatchType::NotRegex,
        MatchType::NotRegex => MatchType::Regex,
    };
    Ok(Matcher::new(t, m.name.clone(), m.value.clone())?)
}

/// Series that have label `m.name` with a value `m` accepts.
fn postings_for_matcher<'a, S: PostingsSource + ?Sized>(
    ix: &'a S,
    m: &Matcher,
) -> Result<BoxPostings<'a>, IndexError> {
    if m.match_type == MatchType::Equal {
        return ix.postings(&m.name, &[m.value.as_str()]);
    }
    if m.match_type == MatchType::Regex {
        if let Some(set) = m.set_matches() {
            return ix.postings(&m.name, &set);
        }
    }
    let vals = ix.label_values(&m.name)?;
    // With a literal prefix only the sorted run of values starting with it
    // can match.
    let candidates = match (m.match_type, m.literal_prefix()) {
        (MatchType::Regex, Some(p)) => {
            let start = vals.partition_point(|v| *v < p);
            let len = vals[start..].partition_point(|v| v.starts_with(p));
            &vals[start..start + len]
        }
        _ => &vals[..],
    };
    let res: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|v| m.matches(v))
        .collect();
    if res.is_empty() {
        return Ok(Box::new(EmptyPostings));
    }
    ix.postings(&m.name, &res)
}

/// Series that have label `m.name` with a value `m` rejects.
fn inverse_postings_for_matcher<'a, S: PostingsSource + ?Sized>(
    ix: &'a S,
    m: &Matcher,
) -> Result<BoxPostings<'a>, IndexError> {
    let vals = ix.label_values(&m.name)?;
    let res: Vec<&str> = if m.match_type == MatchType::Equal && m.value.is_empty() {
        vals
    } else {
        vals.into_iter().filter(|v| !m.matches(v)).collect()
    };
    ix.postings(&m.name, &res)
}

#[cfg(test)]
mod tests {
    use super::super::postings::expand;
    use super::super::reader::tests::write_index;
    use super::*;
    use model::Labels;
    use proptest::prelude::*;

    fn matcher() -> impl Strategy<Value = Matcher> {
        let t = prop_oneof![
            Just(MatchType::Equal),
            Just(MatchType::NotEqual),
            Just(MatchType::Regex),
            Just(MatchType::NotRegex),
        ];
        let v = prop_oneof![
            "[ab]{0,2}",
            Just(".*".to_owned()),
            Just(".+".to_owned()),
            Just("a.*".to_owned()),
            Just("a|b|bb".to_owned()),
            Just("[ab]b?".to_owned()),
        ];
        (t, "[xyz]", v).prop_map(|(t, n, v)| Matcher::new(t, n, v).unwrap())
    }

    fn series() -> impl Strategy<Value = Vec<Labels>> {
        let set = proptest::collection::btree_map("[xyz]", "[ab]{0,2}", 0..3).prop_map(|m| {
            let mut pairs: Vec<(String, String)> = m.into_iter().collect();
            pairs.push(("__name__".into(), "m".into()));
            Labels::from_pairs(&pairs)
        });
        proptest::collection::vec(set, 1..30)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Selection equals filtering every series with the matchers.
        #[test]
        fn selects_what_a_scan_selects(series in series(), ms in proptest::collection::vec(matcher(), 1..4)) {
            let r = IndexReader::from_vec(write_index(&series)).unwrap();
            let mut chunks = Vec::new();
            let got: Vec<Labels> = expand(postings_for_matchers(&r, &ms).unwrap())
                .into_iter()
                .map(|id| r.series(id, &mut chunks).unwrap())
                .collect();
            let mut want: Vec<Labels> = series
                .iter()
                .filter(|l| ms.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
                .cloned()
                .collect();
            want.sort();
            want.dedup();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn no_matchers_select_nothing() {
        let r = IndexReader::from_vec(write_index(&[Labels::from_pairs(&[("a", "b")])])).unwrap();
        assert!(expand(postings_for_matchers(&r, &[]).unwrap()).is_empty());
    }
}
