//! The syntax tree of an expression, before any name is resolved. Every node keeps the byte
//! span of the text it was parsed from, so that the binder can say where a type error is.

/// A byte range of the option's (percent-decoded) text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A syntax or type error at a byte offset of the option's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub detail: String,
    pub at: usize,
}

impl ExprError {
    pub fn new(detail: impl Into<String>, at: usize) -> ExprError {
        ExprError {
            detail: detail.into(),
            at,
        }
    }
}

/// A literal value as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// Nanoseconds since the Unix epoch, and the source text.
    DateTime(i128, String),
    /// Lowercased.
    Guid(String),
    /// `Type'member'`, as written.
    Typed(String, String),
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Has,
    And,
    Or,
}

impl BinOp {
    /// The operator's keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            BinOp::Eq => "eq",
            BinOp::Ne => "ne",
            BinOp::Gt => "gt",
            BinOp::Ge => "ge",
            BinOp::Lt => "lt",
            BinOp::Le => "le",
            BinOp::Has => "has",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

/// `any` or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaOp {
    Any,
    All,
}

/// One segment of a member path: a property name, a qualified type name (a cast), `$count`,
/// `$it`, or a lambda variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub name: String,
    pub span: Span,
}

/// A node of the syntax tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `a/b/microsoft.graph.T/c`
    Member(Vec<Segment>),
    /// `source/any(v: body)`, `source/any()`
    Lambda {
        source: Vec<Segment>,
        op: LambdaOp,
        op_span: Span,
        var: Option<Segment>,
        body: Option<Box<Expr>>,
    },
    /// `name(args…)`
    Call {
        name: Segment,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Binary {
        op: BinOp,
        op_span: Span,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `lhs in (items…)`
    In {
        lhs: Box<Expr>,
        op_span: Span,
        items: Vec<Expr>,
    },
}

/// `asc` or `desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Asc,
    Desc,
}

/// One `$orderby` key.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderItem {
    pub expr: Expr,
    pub direction: Direction,
}

/// One `$select` item: `*`, `name`, or `Namespace.Type/name`.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    Star(Span),
    Path(Vec<Segment>),
}
