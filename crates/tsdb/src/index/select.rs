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
