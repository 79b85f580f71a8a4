//! The PromQL syntax tree, as the parser builds it and the engine reads it.
//!
//! It mirrors Prometheus's node kinds (`promql/parser/ast.go`) so that the
//! engine can follow Prometheus's evaluation rules node for node, with one
//! difference in representation: every time-valued position that 3.x lets
//! be a duration expression (ranges, subquery steps, offsets) holds a
//! [`DurationExpr`], whose [`DurationExpr::constant`] folds the plain cases.

use crate::error::Span;
use crate::functions::Function;
use model::Matcher;

/// The type a PromQL expression evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// No value (only as an error case).
    None,
    /// A single number.
    Scalar,
    /// One sample per series.
    Vector,
    /// A range of samples per series.
    Matrix,
    /// A string.
    String,
}

impl ValueType {
    /// The name Prometheus's type errors use ("instant vector", ...).
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
        }
    }

    /// The name Prometheus's API uses ("vector", "matrix", ...).
    pub fn api_name(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
            ValueType::String => "string",
        }
    }
}

/// A PromQL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `1`, `-2.5e3`, `0x1f`, `Inf`, `5m` (a duration as seconds).
    Number(NumberLiteral),
    /// `"text"`.
    String(StringLiteral),
    /// `foo{a="b"}`, with optional `offset`, `@`, `anchored`/`smoothed`.
    VectorSelector(VectorSelector),
    /// `foo[5m]`.
    MatrixSelector(MatrixSelector),
    /// `<expr>[5m:1m]`.
    Subquery(SubqueryExpr),
    /// `sum by (a) (x)`.
    Aggregate(AggregateExpr),
    /// `a + on(b) c`.
    Binary(BinaryExpr),
    /// `-a`.
    Unary(UnaryExpr),
    /// `(a)`.
    Paren(ParenExpr),
    /// `rate(x[5m])`.
    Call(Call),
}

/// A number literal.
#[derive(Clone, Debug, PartialEq)]
pub struct NumberLiteral {
    /// The value; durations are in seconds.
    pub value: f64,
    /// Written as a duration (`5m`), so it prints back as one.
    pub duration: bool,
    /// Where it was written.
    pub span: Span,
}

/// A string literal.
#[derive(Clone, Debug, PartialEq)]
pub struct StringLiteral {
    /// The unquoted value; bytes that are not UTF-8 appear as U+FFFD.
    pub value: String,
    /// The exact bytes when they are not UTF-8 (`"\xff"`): Go strings may
    /// hold any bytes, and Prometheus rejects such label names or values only
    /// when evaluating (`invalid label name "a\xc5z"`), so the engine needs them.
    pub invalid_utf8: Option<Vec<u8>>,
    /// Where it was written.
    pub span: Span,
}

/// The `@` modifier.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AtModifier {
    /// `@ <seconds>`, stored in milliseconds.
    Timestamp(i64),
    /// `@ start()`.
    Start,
    /// `@ end()`.
    End,
}

/// Operators of duration expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DurationOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
}

impl DurationOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            DurationOp::Add => "+",
            DurationOp::Sub => "-",
            DurationOp::Mul => "*",
            DurationOp::Div => "/",
            DurationOp::Mod => "%",
            DurationOp::Pow => "^",
        }
    }
}

/// A duration in a range, subquery step or offset: a literal, or (3.x,
/// experimental) arithmetic over literals, `step()`, `range()`,
/// `min_of(a, b)` and `max_of(a, b)`. Values are seconds.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationExpr {
    /// `5m`, `300`, `1.5`.
    Number(NumberLiteral),
    /// `step()`: the query's step.
    Step,
    /// `range()`: the query's range (end - start).
    Range,
    /// `-d` or `+d`.
    Unary(DurationOp, Box<DurationExpr>),
    /// `a <op> b`.
    Binary(DurationOp, Box<DurationExpr>, Box<DurationExpr>),
    /// `min_of(a, b)`.
    MinOf(Box<DurationExpr>, Box<DurationExpr>),
    /// `max_of(a, b)`.
    MaxOf(Box<DurationExpr>, Box<DurationExpr>),
    /// `(d)`.
    Paren(Box<DurationExpr>),
}

impl DurationExpr {
    /// The value in seconds if it does not depend on the query (no `step()`
    /// or `range()`).
    pub fn constant(&self) -> Option<f64> {
        self.eval(None, None)
    }

    /// The value in seconds, given the query's step and range in seconds
    /// (`None` where unknown).
    pub fn eval(&self, step: Option<f64>, range: Option<f64>) -> Option<f64> {
        Some(match self {
            DurationExpr::Number(n) => n.value,
            DurationExpr::Step => step?,
            DurationExpr::Range => range?,
            DurationExpr::Paren(d) => d.eval(step, range)?,
            DurationExpr::Unary(op, d) => {
                let v = d.eval(step, range)?;
                if *op == DurationOp::Sub {
                    -v
                } else {
                    v
                }
            }
            DurationExpr::Binary(op, a, b) => {
                let (a, b) = (a.eval(step, range)?, b.eval(step, range)?);
                match op {
                    DurationOp::Add => a + b,
                    DurationOp::Sub => a - b,
                    DurationOp::Mul => a * b,
                    DurationOp::Div => a / b,
                    DurationOp::Mod => a % b,
                    DurationOp::Pow => a.powf(b),
                }
            }
            DurationExpr::MinOf(a, b) => a.eval(step, range)?.min(b.eval(step, range)?),
            DurationExpr::MaxOf(a, b) => a.eval(step, range)?.max(b.eval(step, range)?),
        })
    }
}

/// An instant vector selector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector {
    /// The metric name written before the braces, if any.
    pub name: Option<String>,
    /// All matchers; when `name` is set, the last one is `__name__="<name>"`,
    /// as Prometheus builds it.
    pub matchers: Vec<Matcher>,
    /// `offset <d>` (seconds; negative looks into the future).
    pub offset: Option<DurationExpr>,
    /// `@ <t>`.
    pub at: Option<AtModifier>,
    /// `anchored` (3.x experimental extended range selectors).
    pub anchored: bool,
    /// `smoothed` (3.x experimental extended range selectors).
    pub smoothed: bool,
    /// Where it was written, modifiers included.
    pub span: Span,
}

/// A range vector selector `<selector>[<range>]`; offset, `@`, `anchored`
/// and `smoothed` live on the inner selector.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSelector {
    /// The selector.
    pub selector: VectorSelector,
    /// The range.
    pub range: DurationExpr,
    /// Where it was written.
    pub span: Span,
}

/// A subquery `<expr>[<range>:<step>]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SubqueryExpr {
    /// The inner expression (an instant vector).
    pub expr: Box<Expr>,
    /// The range.
    pub range: DurationExpr,
    /// The step; `None` means the engine's default.
    pub step: Option<DurationExpr>,
    /// `offset <d>`.
    pub offset: Option<DurationExpr>,
    /// `@ <t>`.
    pub at: Option<AtModifier>,
    /// Where it was written.
    pub span: Span,
}

/// Aggregation operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggregateOp {
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `count`
    Count,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `group`
    Group,
    /// `stddev`
    Stddev,
    /// `stdvar`
    Stdvar,
    /// `topk`
    Topk,
    /// `bottomk`
    Bottomk,
    /// `count_values`
    CountValues,
    /// `quantile`
    Quantile,
    /// `limitk` (experimental)
    Limitk,
    /// `limit_ratio` (experimental)
    LimitRatio,
}

const AGGREGATE_OPS: [(AggregateOp, &str); 14] = [
    (AggregateOp::Sum, "sum"),
    (AggregateOp::Avg, "avg"),
    (AggregateOp::Count, "count"),
    (AggregateOp::Min, "min"),
    (AggregateOp::Max, "max"),
    (AggregateOp::Group, "group"),
    (AggregateOp::Stddev, "stddev"),
    (AggregateOp::Stdvar, "stdvar"),
    (AggregateOp::Topk, "topk"),
    (AggregateOp::Bottomk, "bottomk"),
    (AggregateOp::CountValues, "count_values"),
    (AggregateOp::Quantile, "quantile"),
    (AggregateOp::Limitk, "limitk"),
    (AggregateOp::LimitRatio, "limit_ratio"),
];

impl AggregateOp {
    /// The operator for a lowercase name.
    pub fn from_name(name: &str) -> Option<AggregateOp> {
        AGGREGATE_OPS
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(op, _)| *op)
    }

    /// The name as Prometheus prints it.
    pub fn as_str(self) -> &'static str {
        AGGREGATE_OPS
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("", |(_, n)| n)
    }

    /// Whether it takes a parameter before the vector, and of which type.
    pub fn param_type(self) -> Option<ValueType> {
        match self {
            AggregateOp::Topk
            | AggregateOp::Bottomk
            | AggregateOp::Quantile
            | AggregateOp::Limitk
            | AggregateOp::LimitRatio => Some(ValueType::Scalar),
            AggregateOp::CountValues => Some(ValueType::String),
            _ => None,
        }
    }

    /// Whether Prometheus gates it behind the experimental-functions flag.
    pub fn experimental(self) -> bool {
        matches!(self, AggregateOp::Limitk | AggregateOp::LimitRatio)
    }
}

/// An aggregation.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateExpr {
    /// The operator.
    pub op: AggregateOp,
    /// The vector aggregated.
    pub expr: Box<Expr>,
    /// The parameter of `topk`, `quantile`, `count_values`, ...
    pub param: Option<Box<Expr>>,
    /// The `by`/`without` labels.
    pub grouping: Vec<String>,
    /// `without` rather than `by`.
    pub without: bool,
    /// Whether a `by`/`without` clause was written (`sum by () (x)` keeps it).
    pub grouping_written: bool,
    /// Where it was written.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `atan2`
    Atan2,
    /// `==`
    Eql,
    /// `!=`
    Neq,
    /// `>`
    Gtr,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `<=`
    Lte,
    /// `</` (trim the upper part of native histograms; experimental)
    TrimUpper,
    /// `>/` (trim the lower part of native histograms; experimental)
    TrimLower,
    /// `and`
    And,
    /// `or`
    Or,
    /// `unless`
    Unless,
}

const BINARY_OPS: [(BinaryOp, &str, u8); 18] = [
    (BinaryOp::Or, "or", 1),
    (BinaryOp::And, "and", 2),
    (BinaryOp::Unless, "unless", 2),
    (BinaryOp::Eql, "==", 3),
    (BinaryOp::Neq, "!=", 3),
    (BinaryOp::Gtr, ">", 3),
    (BinaryOp::Lss, "<", 3),
    (BinaryOp::Gte, ">=", 3),
    (BinaryOp::Lte, "<=", 3),
    (BinaryOp::TrimUpper, "</", 3),
    (BinaryOp::TrimLower, ">/", 3),
    (BinaryOp::Add, "+", 4),
    (BinaryOp::Sub, "-", 4),
    (BinaryOp::Mul, "*", 5),
    (BinaryOp::Div, "/", 5),
    (BinaryOp::Mod, "%", 5),
    (BinaryOp::Atan2, "atan2", 5),
    (BinaryOp::Pow, "^", 6),
];

impl BinaryOp {
    /// The operator for its text (`atan2`, `and`, ... in lowercase).
    pub fn from_str_op(s: &str) -> Option<BinaryOp> {
        BINARY_OPS
            .iter()
            .find(|(_, n, _)| *n == s)
            .map(|(op, _, _)| *op)
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        BINARY_OPS
            .iter()
            .find(|(op, _, _)| *op == self)
            .map_or("", |(_, n, _)| n)
    }

    /// Binding strength, 1 (`or`) to 6 (`^`), as Prometheus's grammar orders them.
    pub fn precedence(self) -> u8 {
        BINARY_OPS
            .iter()
            .find(|(op, _, _)| *op == self)
            .map_or(0, |(_, _, p)| *p)
    }

    /// Only `^` groups to the right.
    pub fn right_associative(self) -> bool {
        self == BinaryOp::Pow
    }

    /// `==`, `!=`, `>`, `<`, `>=`, `<=`. The histogram trims `</` `>/` share
    /// their precedence but are not comparisons (no `bool`, no filtering).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Gtr
                | BinaryOp::Lss
                | BinaryOp::Gte
                | BinaryOp::Lte
        )
    }

    /// `and`, `or`, `unless`.
    pub fn is_set(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }
}

/// How the series of the two sides of a binary operation pair up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cardinality {
    /// Plain matching.
    OneToOne,
    /// `group_left`.
    ManyToOne,
    /// `group_right`.
    OneToMany,
    /// Set operators.
    ManyToMany,
}

/// The vector-matching part of a binary operation between two vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    /// The cardinality.
    pub card: Cardinality,
    /// The `on`/`ignoring` labels.
    pub matching_labels: Vec<String>,
    /// `on` rather than `ignoring`.
    pub on: bool,
    /// The `group_left`/`group_right` extra labels.
    pub include: Vec<String>,
    /// `fill(v)` / `fill_left(v)`: value for a missing left-hand series.
    pub fill_lhs: Option<f64>,
    /// `fill(v)` / `fill_right(v)`: value for a missing right-hand series.
    pub fill_rhs: Option<f64>,
}

/// A binary operation.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryExpr {
    /// The operator.
    pub op: BinaryOp,
    /// Left operand.
    pub lhs: Box<Expr>,
    /// Right operand.
    pub rhs: Box<Expr>,
    /// Matching, present when both sides are instant vectors.
    pub matching: Option<VectorMatching>,
    /// `bool` on a comparison.
    pub return_bool: bool,
    /// Where it was written.
    pub span: Span,
}

/// `-x` or `+x` on a non-literal.
#[derive(Clone, Debug, PartialEq)]
pub struct UnaryExpr {
    /// True for `-`.
    pub negate: bool,
    /// The operand.
    pub expr: Box<Expr>,
    /// Where it was written.
    pub span: Span,
}

/// A parenthesised expression.
#[derive(Clone, Debug, PartialEq)]
pub struct ParenExpr {
    /// The inner expression.
    pub expr: Box<Expr>,
    /// Where it was written.
    pub span: Span,
}

/// A function call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function.
    pub func: &'static Function,
    /// The arguments.
    pub args: Vec<Expr>,
    /// Where it was written.
    pub span: Span,
}

impl Expr {
    /// The type this expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Number(_) => ValueType::Scalar,
            Expr::String(_) => ValueType::String,
            Expr::VectorSelector(_) | Expr::Aggregate(_) => ValueType::Vector,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar
                    && b.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Unary(u) => u.expr.value_type(),
            Expr::Paren(p) => p.expr.value_type(),
            Expr::Call(c) => c.func.return_type,
        }
    }

    /// Where the expression was written.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number(n) => n.span,
            Expr::String(s) => s.span,
            Expr::VectorSelector(v) => v.span,
            Expr::MatrixSelector(m) => m.span,
            Expr::Subquery(s) => s.span,
            Expr::Aggregate(a) => a.span,
            Expr::Binary(b) => b.span,
            Expr::Unary(u) => u.span,
            Expr::Paren(p) => p.span,
            Expr::Call(c) => c.span,
        }
    }
}
