//! Values between the nodes of one evaluation step.

use model::Labels;

/// One element of an instant vector while a query runs.
#[derive(Clone, Debug)]
pub(crate) struct Elem {
    pub(crate) labels: Labels,
    pub(crate) v: f64,
    /// The sample's own timestamp for selectors (what `timestamp()`
    /// returns), else the evaluation time.
    pub(crate) ts: i64,
    /// `__name__` is to be removed at the end of the query.
    pub(crate) drop_name: bool,
}

/// One series of a range vector while a query runs.
#[derive(Clone, Debug)]
pub(crate) struct RangeSeries {
    pub(crate) labels: Labels,
    /// (ms, value) in time order; stale markers are never stored here.
    pub(crate) points: Vec<(i64, f64)>,
    pub(crate) drop_name: bool,
}

/// The value of a node at one step.
#[derive(Clone, Debug)]
pub(crate) enum IVal {
    Scalar(f64),
    Str(String),
    Vector(Vec<Elem>),
    Matrix(Vec<RangeSeries>),
}

/// The labels an element ends with: without `__name__` when marked.
pub(crate) fn final_labels(labels: &Labels, drop_name: bool) -> Labels {
    if drop_name {
        // Type and unit metadata labels describe the metric the name names.
        labels.without(&["__name__", "__type__", "__unit__"])
    } else {
        labels.clone()
    }
}
