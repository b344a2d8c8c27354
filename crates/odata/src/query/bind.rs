//! Binding: the syntax tree's names resolved against one version's EDM into a typed tree.
//!
//! - A member path starts at the item (`$it`) or at a lambda variable; each segment is a
//!   structural property of the current type (exact spelling first, then case-insensitively),
//!   a cast to a derived type (`microsoft.graph.deviceEnrollmentLimitConfiguration`), or
//!   `$count` after a collection. A property that only a derived type has needs a cast, as in
//!   Graph; navigation properties cannot be filtered on.
//! - Literals take the type the other operand needs where OData allows it: a string compared
//!   with an enum property names a member (case-insensitively), a quoted GUID compares with a
//!   GUID property, a date compares with a date-time.
//! - Every operator and function checks its operands; a mismatch is an error at the operator's
//!   or argument's position, never a runtime surprise.

use std::sync::Arc;

use edm::{Model, Primitive, TypeKind, TypeRef};

use super::ast::{BinOp, Expr, ExprError, ExprKind, LambdaOp, Literal, Segment, Span};
use super::capabilities::Capabilities;

/// The static type of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// The `null` literal: compatible with every single-valued type.
    Null,
    Prim(Primitive),
    /// An enum, by its unqualified name.
    Enum(String),
    /// An entity or complex type, by its unqualified name.
    Structured(String),
    Collection(Box<Ty>),
}

impl Ty {
    fn from_ref(t: &TypeRef) -> Ty {
        let single = match &t.kind {
            TypeKind::Primitive(p) => Ty::Prim(*p),
            TypeKind::Enum(e) => Ty::Enum(e.clone()),
            TypeKind::Structured(s) => Ty::Structured(s.clone()),
        };
        if t.collection {
            Ty::Collection(Box::new(single))
        } else {
            single
        }
    }

    /// The name used in messages: `Edm.String`, `microsoft.graph.enablement`.
    pub fn name(&self) -> String {
        match self {
            Ty::Null => "null".into(),
            Ty::Prim(p) => p.edm_name().into(),
            Ty::Enum(n) | Ty::Structured(n) => format!("{}.{n}", edm::NAMESPACE),
            Ty::Collection(inner) => format!("Collection({})", inner.name()),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(
            self,
            Ty::Prim(Primitive::Int32 | Primitive::Int64 | Primitive::Double)
        )
    }

    fn is_single_primitive(&self) -> bool {
        matches!(self, Ty::Prim(_) | Ty::Enum(_) | Ty::Null)
    }
}

/// An enum's members and values, for comparisons by value and `has`.
#[derive(Debug, PartialEq)]
pub struct EnumInfo {
    pub name: String,
    pub is_flags: bool,
    pub members: Vec<(String, i64)>,
}

impl EnumInfo {
    /// The value of a member name (or, for flags, a comma-separated list), case-insensitively.
    pub fn value_of(&self, text: &str) -> Option<i64> {
        let one = |m: &str| {
            self.members
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(m.trim()))
                .map(|(_, v)| *v)
        };
        if self.is_flags && text.contains(',') {
            text.split(',').try_fold(0i64, |acc, m| Some(acc | one(m)?))
        } else {
            one(text)
        }
    }
}

/// How two values of a comparison compare.
#[derive(Debug, Clone, PartialEq)]
pub enum CmpKind {
    /// Both sides are `null` literals.
    Null,
    Bool,
    Number,
    String,
    DateTime,
    Guid,
    Enum(Arc<EnumInfo>),
    /// `eq null` / `ne null` on a complex value.
    Presence,
}

/// A typed constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Const {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    /// Nanoseconds since the Unix epoch.
    DateTime(i128),
    /// Lowercased.
    Guid(String),
    /// An enum member's value.
    Enum(i64),
}

/// Where a member path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// The item being filtered.
    It,
    /// The lambda variable declared at this nesting level (0 = outermost).
    Var(usize),
}

/// One step of a member path.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Prop(String),
    /// Keeps values whose `@odata.type` is one of `accept` (lowercased names); values without
    /// one are of `declared`, which is accepted when `declared_ok`.
    Cast {
        accept: Arc<Vec<String>>,
        declared_ok: bool,
    },
}

/// A function of the typed tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Contains,
    StartsWith,
    EndsWith,
    ToLower,
    ToUpper,
    Trim,
    Length,
    IndexOf,
    Substring,
    Concat,
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A node of the typed tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    Const(Const),
    Path {
        root: Root,
        steps: Vec<Step>,
    },
    Not(Box<Bound>),
    And(Box<Bound>, Box<Bound>),
    Or(Box<Bound>, Box<Bound>),
    Cmp {
        op: CmpOp,
        kind: CmpKind,
        lhs: Box<Bound>,
        rhs: Box<Bound>,
    },
    In {
        kind: CmpKind,
        lhs: Box<Bound>,
        items: Vec<Const>,
    },
    /// `lhs has flag`
    Has {
        info: Arc<EnumInfo>,
        lhs: Box<Bound>,
        flag: i64,
    },
    Call {
        func: Func,
        args: Vec<Bound>,
    },
    /// `isof(target?, 'T')`: the value's `@odata.type` is one of `accept`.
    IsOf {
        target: Option<Box<Bound>>,
        accept: Arc<Vec<String>>,
    },
    Lambda {
        op: LambdaOp,
        source: Box<Bound>,
        /// `None` for `any()`: the collection is not empty.
        body: Option<Box<Bound>>,
    },
    /// `collection/$count`
    Count(Box<Bound>),
}

/// The binder of one expression.
pub struct Binder<'m> {
    model: &'m Model,
    root: String,
    caps: &'m Capabilities,
    vars: Vec<(String, Ty)>,
}

fn err(detail: impl Into<String>, at: usize) -> ExprError {
    ExprError::new(detail, at)
}

fn cmp_op(op: BinOp) -> Option<CmpOp> {
    Some(match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::Ne => CmpOp::Ne,
        BinOp::Gt => CmpOp::Gt,
        BinOp::Ge => CmpOp::Ge,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        _ => return None,
    })
}

impl<'m> Binder<'m> {
    /// A binder for expressions over items of the structured type `root`.
    pub fn new(model: &'m Model, root: &str, caps: &'m Capabilities) -> Binder<'m> {
        Binder {
            model,
            root: root.to_owned(),
            caps,
            vars: Vec::new(),
        }
    }

    /// Binds a `$filter` expression: it must be boolean.
    pub fn filter(&mut self, e: &Expr) -> Result<Bound, ExprError> {
        let (b, ty) = self.expr(e)?;
        match ty {
            Ty::Prim(Primitive::Boolean) | Ty::Null => Ok(b),
            other => Err(err(
                format!(
                    "the expression is of type '{}' but a filter must be boolean",
                    other.name()
                ),
                e.span.start,
            )),
        }
    }

    /// Binds an `$orderby` key: it must be a single primitive or enum value.
    pub fn sort_key(&mut self, e: &Expr) -> Result<(Bound, Ty), ExprError> {
        let (b, ty) = self.expr(e)?;
        if !ty.is_single_primitive() {
            return Err(err(
                format!(
                    "cannot sort by a value of type '{}': only primitive and enum values can be sort keys",
                    ty.name()
                ),
                e.span.start,
            ));
        }
        Ok((b, ty))
    }

    fn operator(&self, name: &str, at: usize) -> Result<(), ExprError> {
        if self.caps.allows_operator(name) {
            Ok(())
        } else {
            Err(err(
                format!(
                    "the operator '{name}' is not supported on {}",
                    self.caps.name
                ),
                at,
            ))
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<(Bound, Ty), ExprError> {
        match &e.kind {
            ExprKind::Literal(l) => self.literal(l, e.span),
            ExprKind::Member(segs) => self.member(segs),
            ExprKind::Lambda {
                source,
                op,
                op_span,
                var,
                body,
            } => self.lambda(source, *op, *op_span, var.as_ref(), body.as_deref()),
            ExprKind::Call { name, args } => self.call(name, args),
            ExprKind::Not(x) => {
                self.operator("not", e.span.start)?;
                let (b, ty) = self.expr(x)?;
                self.boolean(&ty, "not", x.span)?;
                Ok((Bound::Not(Box::new(b)), Ty::Prim(Primitive::Boolean)))
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.binary(*op, *op_span, lhs, rhs),
            ExprKind::In {
                lhs,
                op_span,
                items,
            } => self.in_list(lhs, *op_span, items),
        }
    }

    fn boolean(&self, ty: &Ty, op: &str, span: Span) -> Result<(), ExprError> {
        match ty {
            Ty::Prim(Primitive::Boolean) | Ty::Null => Ok(()),
            other => Err(err(
                format!(
                    "the operator '{op}' needs a boolean operand but found '{}'",
                    other.name()
                ),
                span.start,
            )),
        }
    }

    fn literal(&self, l: &Literal, span: Span) -> Result<(Bound, Ty), ExprError> {
        let (c, ty) = match l {
            Literal::Null => (Const::Null, Ty::Null),
            Literal::Bool(b) => (Const::Bool(*b), Ty::Prim(Primitive::Boolean)),
            Literal::Int(i) => (
                Const::Int(*i),
                Ty::Prim(if i32::try_from(*i).is_ok() {
                    Primitive::Int32
                } else {
                    Primitive::Int64
                }),
            ),
            Literal::Float(f) => (Const::Float(*f), Ty::Prim(Primitive::Double)),
            Literal::String(s) => (Const::String(s.clone()), Ty::Prim(Primitive::String)),
            Literal::DateTime(n, _) => (Const::DateTime(*n), Ty::Prim(Primitive::DateTimeOffset)),
            Literal::Guid(g) => (Const::Guid(g.clone()), Ty::Prim(Primitive::Guid)),
            Literal::Typed(ty, v) => {
                let e = self
                    .model
                    .enum_type(ty)
                    .ok_or_else(|| err(format!("'{ty}' is not an enum type"), span.start))?;
                let info = enum_info(e);
                let value = info.value_of(v).ok_or_else(|| {
                    err(
                        format!(
                            "the string '{v}' is not a valid enumeration type constant of '{}.{}'",
                            edm::NAMESPACE,
                            e.name
                        ),
                        span.start,
                    )
                })?;
                (Const::Enum(value), Ty::Enum(e.name.clone()))
            }
        };
        Ok((Bound::Const(c), ty))
    }

    fn structured_name(&self, ty: &Ty) -> Option<String> {
        match ty {
            Ty::Structured(n) => Some(n.clone()),
            _ => None,
        }
    }

    /// Resolves a member path.
    fn member(&mut self, segs: &[Segment]) -> Result<(Bound, Ty), ExprError> {
        let (root, mut ty, rest) = self.path_root(segs)?;
        let mut steps = Vec::new();
        let mut i = 0;
        while i < rest.len() {
            let seg = &rest[i];
            let is_last = i + 1 == rest.len();
            if seg.name == "$count" {
                self.operator("$count", seg.span.start)?;
                if !matches!(ty, Ty::Collection(_)) {
                    return Err(err(
                        format!(
                            "'$count' can only follow a collection, not a value of type '{}'",
                            ty.name()
                        ),
                        seg.span.start,
                    ));
                }
                if !is_last {
                    return Err(err("'$count' must end the path", rest[i + 1].span.start));
                }
                return Ok((
                    Bound::Count(Box::new(Bound::Path { root, steps })),
                    Ty::Prim(Primitive::Int32),
                ));
            }
            let Some(current) = self.structured_name(&ty) else {
                return Err(err(
                    format!(
                        "'{}' cannot follow a value of type '{}'",
                        seg.name,
                        ty.name()
                    ),
                    seg.span.start,
                ));
            };
            if seg.name.contains('.') {
                let (step, cast) = self.cast(&current, seg)?;
                steps.push(step);
                ty = Ty::Structured(cast);
            } else {
                let p_ty = self.property(&current, seg)?;
                steps.push(Step::Prop(p_ty.0));
                ty = p_ty.1;
            }
            i += 1;
        }
        Ok((Bound::Path { root, steps }, ty))
    }

    /// The start of a path: a lambda variable, `$it`, or the item itself.
    fn path_root<'s>(&self, segs: &'s [Segment]) -> Result<(Root, Ty, &'s [Segment]), ExprError> {
        let first = &segs[0];
        if let Some(i) = self.vars.iter().rposition(|(v, _)| *v == first.name) {
            return Ok((Root::Var(i), self.vars[i].1.clone(), &segs[1..]));
        }
        if first.name == "$it" {
            return Ok((Root::It, Ty::Structured(self.root.clone()), &segs[1..]));
        }
        Ok((Root::It, Ty::Structured(self.root.clone()), segs))
    }

    fn cast(&self, current: &str, seg: &Segment) -> Result<(Step, String), ExprError> {
        let t = self.model.structured(&seg.name).ok_or_else(|| {
            err(
                format!("'{}' is not a type of this API version", seg.name),
                seg.span.start,
            )
        })?;
        if !self.model.is_assignable(&t.name, current) {
            return Err(err(
                format!(
                    "the type '{}.{}' does not derive from '{}.{current}'",
                    edm::NAMESPACE,
                    t.name,
                    edm::NAMESPACE
                ),
                seg.span.start,
            ));
        }
        let accept = t
            .self_and_derived
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        Ok((
            Step::Cast {
                accept: Arc::new(accept),
                declared_ok: t.name.eq_ignore_ascii_case(current),
            },
            t.name.clone(),
        ))
    }

    /// A structural property of `current`: its schema name and type.
    fn property(&self, current: &str, seg: &Segment) -> Result<(String, Ty), ExprError> {
        let st = self
            .model
            .structured(current)
            .ok_or_else(|| err(format!("unknown type '{current}'"), seg.span.start))?;
        let p = st.property(&seg.name).or_else(|| {
            st.properties
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&seg.name))
        });
        if let Some(p) = p {
            return Ok((p.name.clone(), Ty::from_ref(&p.ty)));
        }
        if st
            .navigation
            .iter()
            .any(|n| n.name.eq_ignore_ascii_case(&seg.name))
        {
            return Err(err(
                format!(
                    "the navigation property '{}' cannot be used in an expression on {}",
                    seg.name, self.caps.name
                ),
                seg.span.start,
            ));
        }
        let derived = st.self_and_derived.iter().find_map(|d| {
            let dt = self.model.structured(d)?;
            dt.properties
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&seg.name))
                .then(|| dt.name.clone())
        });
        let hint = match derived {
            Some(d) => format!(
                " (it is a property of the derived type '{}.{d}': cast to it, e.g. '{}.{d}/{}')",
                edm::NAMESPACE,
                edm::NAMESPACE,
                seg.name
            ),
            None => String::new(),
        };
        Err(err(
            format!(
                "could not find a property named '{}' on type '{}.{}'{hint}",
                seg.name,
                edm::NAMESPACE,
                st.name
            ),
            seg.span.start,
        ))
    }

    fn lambda(
        &mut self,
        source: &[Segment],
        op: LambdaOp,
        op_span: Span,
        var: Option<&Segment>,
        body: Option<&Expr>,
    ) -> Result<(Bound, Ty), ExprError> {
        let name = match op {
            LambdaOp::Any => "any",
            LambdaOp::All => "all",
        };
        self.operator(name, op_span.start)?;
        let (src, ty) = self.member(source)?;
        let Ty::Collection(elem) = ty else {
            return Err(err(
                format!(
                    "'{name}' needs a collection but '{}' is of type '{}'",
                    source
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join("/"),
                    ty.name()
                ),
                op_span.start,
            ));
        };
        let body = match (var, body) {
            (Some(v), Some(b)) => {
                if v.name.contains('.') || v.name.starts_with('$') {
                    return Err(err(
                        format!("'{}' is not a valid lambda variable name", v.name),
                        v.span.start,
                    ));
                }
                if self.vars.iter().any(|(n, _)| *n == v.name) {
                    return Err(err(
                        format!("the lambda variable '{}' is already in use", v.name),
                        v.span.start,
                    ));
                }
                self.vars.push((v.name.clone(), *elem));
                let r = self.expr(b);
                self.vars.pop();
                let (bb, bty) = r?;
                self.boolean(&bty, name, b.span)?;
                Some(Box::new(bb))
            }
            _ if op == LambdaOp::All => {
                return Err(err(
                    "'all' needs a variable and a condition: all(v: condition)",
                    op_span.start,
                ))
            }
            _ => None,
        };
        Ok((
            Bound::Lambda {
                op,
                source: Box::new(src),
                body,
            },
            Ty::Prim(Primitive::Boolean),
        ))
    }

    fn call(&mut self, name: &Segment, args: &[Expr]) -> Result<(Bound, Ty), ExprError> {
        let lower = name.name.to_ascii_lowercase();
        if !super::capabilities::ALL_FUNCTIONS.contains(&lower.as_str()) {
            return Err(err(
                format!("unknown function '{}'", name.name),
                name.span.start,
            ));
        }
        if !self.caps.allows_function(&lower) {
            return Err(err(
                format!(
                    "the function '{}' is not supported on {}",
                    name.name, self.caps.name
                ),
                name.span.start,
            ));
        }
        if lower == "isof" {
            return self.isof(name, args);
        }
        use Primitive::{Boolean, DateTimeOffset, Int32, String as Str};
        let (func, params, ret): (Func, &[Primitive], Primitive) = match lower.as_str() {
            "contains" => (Func::Contains, &[Str, Str], Boolean),
            "startswith" => (Func::StartsWith, &[Str, Str], Boolean),
            "endswith" => (Func::EndsWith, &[Str, Str], Boolean),
            "tolower" => (Func::ToLower, &[Str], Str),
            "toupper" => (Func::ToUpper, &[Str], Str),
            "trim" => (Func::Trim, &[Str], Str),
            "length" => (Func::Length, &[Str], Int32),
            "indexof" => (Func::IndexOf, &[Str, Str], Int32),
            "substring" => (Func::Substring, &[Str, Int32, Int32], Str),
            "concat" => (Func::Concat, &[Str, Str], Str),
            "year" => (Func::Year, &[DateTimeOffset], Int32),
            "month" => (Func::Month, &[DateTimeOffset], Int32),
            "day" => (Func::Day, &[DateTimeOffset], Int32),
            "hour" => (Func::Hour, &[DateTimeOffset], Int32),
            "minute" => (Func::Minute, &[DateTimeOffset], Int32),
            _ => (Func::Second, &[DateTimeOffset], Int32),
        };
        let min = if func == Func::Substring {
            2
        } else {
            params.len()
        };
        if args.len() < min || args.len() > params.len() {
            let want = if min == params.len() {
                format!("{min}")
            } else {
                format!("{min} or {}", params.len())
            };
            return Err(err(
                format!(
                    "the function '{}' takes {want} argument{} but {} {} given",
                    name.name,
                    if params.len() == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                name.span.start,
            ));
        }
        let mut bound = Vec::with_capacity(args.len());
        for (a, want) in args.iter().zip(params) {
            let (b, ty) = self.expr(a)?;
            let ok = match (want, &ty) {
                (_, Ty::Null) => true,
                (Int32, t) => matches!(t, Ty::Prim(Int32 | Primitive::Int64)),
                (w, Ty::Prim(p)) => w == p,
                _ => false,
            };
            if !ok {
                return Err(err(
                    format!(
                        "the function '{}' needs an argument of type '{}' but found '{}'",
                        name.name,
                        want.edm_name(),
                        ty.name()
                    ),
                    a.span.start,
                ));
            }
            bound.push(b);
        }
        Ok((Bound::Call { func, args: bound }, Ty::Prim(ret)))
    }

    /// `isof('T')` or `isof(expr, 'T')`; the type may be quoted or not.
    fn isof(&mut self, name: &Segment, args: &[Expr]) -> Result<(Bound, Ty), ExprError> {
        let (target, type_arg) = match args {
            [t] => (None, t),
            [x, t] => (Some(x), t),
            _ => {
                return Err(err(
                    format!(
                        "the function 'isof' takes 1 or 2 arguments but {} were given",
                        args.len()
                    ),
                    name.span.start,
                ))
            }
        };
        let type_name = match &type_arg.kind {
            ExprKind::Literal(Literal::String(s)) => s.clone(),
            ExprKind::Member(segs) if segs.len() == 1 && segs[0].name.contains('.') => {
                segs[0].name.clone()
            }
            _ => {
                return Err(err(
                    "the last argument of 'isof' must be a qualified type name such as 'microsoft.graph.groupAssignmentTarget'",
                    type_arg.span.start,
                ))
            }
        };
        let (target, declared) = match target {
            None => (None, self.root.clone()),
            Some(x) => {
                let (b, ty) = self.expr(x)?;
                let Ty::Structured(n) = ty else {
                    return Err(err(
                        format!(
                            "'isof' needs an entity or complex value but found '{}'",
                            ty.name()
                        ),
                        x.span.start,
                    ));
                };
                (Some(Box::new(b)), n)
            }
        };
        let t = self
            .model
            .structured(&type_name)
            .filter(|_| edm::unqualify(&type_name).is_some() && type_name.contains('.'))
            .ok_or_else(|| {
                err(
                    format!("'{type_name}' is not a type of this API version"),
                    type_arg.span.start,
                )
            })?;
        let decl = self.model.structured(&declared);
        let same_family = decl.is_some_and(|d| d.kind == t.kind)
            && (self.model.is_assignable(&t.name, &declared)
                || self.model.is_assignable(&declared, &t.name));
        if !same_family {
            return Err(err(
                format!(
                    "the type '{}.{}' is unrelated to '{}.{declared}'",
                    edm::NAMESPACE,
                    t.name,
                    edm::NAMESPACE
                ),
                type_arg.span.start,
            ));
        }
        let accept = t
            .self_and_derived
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect();
        Ok((
            Bound::IsOf {
                target,
                accept: Arc::new(accept),
            },
            Ty::Prim(Primitive::Boolean),
        ))
    }

    fn binary(
        &mut self,
        op: BinOp,
        op_span: Span,
        lhs: &Expr,
        rhs: &Expr,
    ) -> Result<(Bound, Ty), ExprError> {
        self.operator(op.keyword(), op_span.start)?;
        let (lb, lt) = self.expr(lhs)?;
        let (rb, rt) = self.expr(rhs)?;
        match op {
            BinOp::And | BinOp::Or => {
                self.boolean(&lt, op.keyword(), lhs.span)?;
                self.boolean(&rt, op.keyword(), rhs.span)?;
                let (l, r) = (Box::new(lb), Box::new(rb));
                let b = if op == BinOp::And {
                    Bound::And(l, r)
                } else {
                    Bound::Or(l, r)
                };
                Ok((b, Ty::Prim(Primitive::Boolean)))
            }
            BinOp::Has => {
                let Ty::Enum(en) = &lt else {
                    return Err(err(
                        format!(
                            "the operator 'has' needs an enum value on its left but found '{}'",
                            lt.name()
                        ),
                        lhs.span.start,
                    ));
                };
                let info = self.enum_info(en, lhs.span)?;
                let flag = match self.coerce(&rb, &rt, &Ty::Enum(en.clone()), rhs.span)? {
                    Some(Const::Enum(v)) => v,
                    _ => {
                        return Err(err(
                            format!(
                                "the operator 'has' needs a member of '{}' on its right",
                                lt.name()
                            ),
                            rhs.span.start,
                        ))
                    }
                };
                Ok((
                    Bound::Has {
                        info,
                        lhs: Box::new(lb),
                        flag,
                    },
                    Ty::Prim(Primitive::Boolean),
                ))
            }
            _ => {
                let cop = cmp_op(op).unwrap_or(CmpOp::Eq);
                let (kind, lb, rb) =
                    self.comparable(op, op_span, (lb, &lt, lhs.span), (rb, &rt, rhs.span))?;
                Ok((
                    Bound::Cmp {
                        op: cop,
                        kind,
                        lhs: Box::new(lb),
                        rhs: Box::new(rb),
                    },
                    Ty::Prim(Primitive::Boolean),
                ))
            }
        }
    }

    fn enum_info(&self, name: &str, span: Span) -> Result<Arc<EnumInfo>, ExprError> {
        self.model
            .enum_type(name)
            .map(enum_info)
            .ok_or_else(|| err(format!("unknown enum type '{name}'"), span.start))
    }

    /// A constant operand converted to `want`'s type where OData allows it; `Ok(None)` if
    /// the operand is not a constant.
    fn coerce(
        &self,
        b: &Bound,
        ty: &Ty,
        want: &Ty,
        span: Span,
    ) -> Result<Option<Const>, ExprError> {
        let Bound::Const(c) = b else {
            return Ok(None);
        };
        let out = match (want, ty, c) {
            (_, Ty::Null, _) => Some(Const::Null),
            (Ty::Enum(en), Ty::Prim(Primitive::String), Const::String(s)) => {
                let info = self.enum_info(en, span)?;
                let v = info.value_of(s).ok_or_else(|| {
                    err(
                        format!(
                            "the string '{s}' is not a valid enumeration type constant of '{}'",
                            want.name()
                        ),
                        span.start,
                    )
                })?;
                Some(Const::Enum(v))
            }
            (Ty::Enum(en), Ty::Enum(other), c) if en.eq_ignore_ascii_case(other) => Some(c.clone()),
            (Ty::Prim(Primitive::Guid), Ty::Prim(Primitive::String), Const::String(s)) => {
                let g = s.to_ascii_lowercase();
                if super::lexer::is_guid(&g) {
                    Some(Const::Guid(g))
                } else {
                    return Err(err(format!("'{s}' is not a valid GUID"), span.start));
                }
            }
            (Ty::Prim(Primitive::String), Ty::Prim(Primitive::Guid), Const::Guid(g)) => {
                Some(Const::String(g.clone()))
            }
            _ => None,
        };
        Ok(out)
    }

    /// Checks that two operands compare, converting literals where allowed.
    fn comparable(
        &self,
        op: BinOp,
        op_span: Span,
        (lb, lt, ls): (Bound, &Ty, Span),
        (rb, rt, rs): (Bound, &Ty, Span),
    ) -> Result<(CmpKind, Bound, Bound), ExprError> {
        let mismatch = || {
            err(
                format!(
                    "a binary operator with incompatible types was detected: found operand types '{}' and '{}' for the operator '{}'",
                    lt.name(),
                    rt.name(),
                    op.keyword()
                ),
                op_span.start,
            )
        };
        // Literals adapt to the other side's type.
        let (lb, lt) = match self.coerce(&lb, lt, rt, ls)? {
            Some(c) if *lt != Ty::Null => (Bound::Const(c), rt.clone()),
            _ => (lb, lt.clone()),
        };
        let (rb, rt) = match self.coerce(&rb, rt, &lt, rs)? {
            Some(c) if *rt != Ty::Null => (Bound::Const(c), lt.clone()),
            _ => (rb, rt.clone()),
        };
        let equality = matches!(op, BinOp::Eq | BinOp::Ne);
        let kind = match (&lt, &rt) {
            (Ty::Null, Ty::Null) => CmpKind::Null,
            (Ty::Collection(_), _) | (_, Ty::Collection(_)) => {
                return Err(err(
                    format!(
                        "a collection cannot be compared with '{}': use any(), all() or /$count",
                        op.keyword()
                    ),
                    op_span.start,
                ))
            }
            (Ty::Structured(_), Ty::Null) | (Ty::Null, Ty::Structured(_)) if equality => {
                CmpKind::Presence
            }
            (Ty::Structured(_), _) | (_, Ty::Structured(_)) => return Err(mismatch()),
            (t, Ty::Null) | (Ty::Null, t) => kind_of(self, t, ls)?,
            (a, b) if a.is_numeric() && b.is_numeric() => CmpKind::Number,
            (Ty::Enum(a), Ty::Enum(b)) if a.eq_ignore_ascii_case(b) => {
                CmpKind::Enum(self.enum_info(a, ls)?)
            }
            (Ty::Prim(a), Ty::Prim(b)) if a == b => kind_of(self, &lt, ls)?,
            _ => return Err(mismatch()),
        };
        Ok((kind, lb, rb))
    }

    fn in_list(
        &mut self,
        lhs: &Expr,
        op_span: Span,
        items: &[Expr],
    ) -> Result<(Bound, Ty), ExprError> {
        self.operator("in", op_span.start)?;
        let (lb, lt) = self.expr(lhs)?;
        if !lt.is_single_primitive() {
            return Err(err(
                format!(
                    "the operator 'in' needs a primitive or enum value on its left but found '{}'",
                    lt.name()
                ),
                lhs.span.start,
            ));
        }
        let mut consts = Vec::with_capacity(items.len());
        let mut kind = None;
        for item in items {
            let ExprKind::Literal(l) = &item.kind else {
                return Err(err(
                    "the list of 'in' may only hold literals",
                    item.span.start,
                ));
            };
            let (ib, it) = self.literal(l, item.span)?;
            let (k, lb2, ib) = self.comparable(
                BinOp::Eq,
                op_span,
                (lb.clone(), &lt, lhs.span),
                (ib, &it, item.span),
            )?;
            drop(lb2);
            if kind.is_none() || kind == Some(CmpKind::Null) {
                kind = Some(k);
            }
            match ib {
                Bound::Const(c) => consts.push(c),
                _ => {
                    return Err(err(
                        "the list of 'in' may only hold literals",
                        item.span.start,
                    ))
                }
            }
        }
        Ok((
            Bound::In {
                kind: kind.unwrap_or(CmpKind::Null),
                lhs: Box::new(lb),
                items: consts,
            },
            Ty::Prim(Primitive::Boolean),
        ))
    }
}

fn kind_of(b: &Binder<'_>, t: &Ty, span: Span) -> Result<CmpKind, ExprError> {
    Ok(match t {
        Ty::Prim(Primitive::Boolean) => CmpKind::Bool,
        Ty::Prim(Primitive::String) => CmpKind::String,
        Ty::Prim(Primitive::DateTimeOffset) => CmpKind::DateTime,
        Ty::Prim(Primitive::Guid) => CmpKind::Guid,
        Ty::Prim(_) => CmpKind::Number,
        Ty::Enum(e) => CmpKind::Enum(b.enum_info(e, span)?),
        Ty::Structured(_) => CmpKind::Presence,
        Ty::Null | Ty::Collection(_) => CmpKind::Null,
    })
}

/// The members of an enum type, for evaluation.
pub fn enum_info(e: &edm::EnumType) -> Arc<EnumInfo> {
    Arc::new(EnumInfo {
        name: e.name.clone(),
        is_flags: e.is_flags,
        members: e.members.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::capabilities::{ASSIGNMENTS, CONFIGURATIONS};
    use crate::query::parser::parse_filter;

    fn bind(model: &Model, root: &str, text: &str) -> Result<Bound, ExprError> {
        let caps = if root == "enrollmentConfigurationAssignment" {
            &ASSIGNMENTS
        } else {
            &CONFIGURATIONS
        };
        let e = parse_filter(text)?;
        Binder::new(model, root, caps).filter(&e)
    }

    fn models() -> edm::Models {
        match edm::Models::load() {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    const C: &str = "deviceEnrollmentConfiguration";

    #[test]
    fn good_filters_bind() {
        let m = models();
        for f in [
            "displayName eq 'x'",
            "deviceEnrollmentConfigurationType eq 'WindowsRestore'",
            "deviceEnrollmentConfigurationType eq microsoft.graph.deviceEnrollmentConfigurationType'limit' and priority eq 0",
            "microsoft.graph.deviceEnrollmentLimitConfiguration/limit ge 3",
            "isof('microsoft.graph.deviceEnrollmentLimitConfiguration')",
            "roleScopeTagIds/any(t: t eq '0')",
            "roleScopeTagIds/all(t: startswith(t, '1'))",
            "roleScopeTagIds/$count gt 0",
            "createdDateTime gt 2020-01-01T00:00:00Z",
            "createdDateTime ge 2020-01-01",
            "displayName eq null or not (priority in (1, 2, 3))",
            "length(tolower(toupper(displayName))) gt 2 and contains(description, 'a')",
            "microsoft.graph.deviceEnrollmentNotificationConfiguration/brandingOptions has 'includeCompanyLogo'",
            "microsoft.graph.deviceEnrollmentNotificationConfiguration/notificationMessageTemplateId eq 0f6d5ee9-2a3b-4c1d-9e8f-7a6b5c4d3e2f",
            "year(createdDateTime) eq 2024",
            "microsoft.graph.deviceEnrollmentPlatformRestrictionsConfiguration/iosRestriction/platformBlocked eq true",
        ] {
            if let Err(e) = bind(&m.beta, C, f) {
                panic!("{f}: {} at {}", e.detail, e.at);
            }
        }
        for f in [
            "target/microsoft.graph.groupAssignmentTarget/groupId eq 'g'",
            "isof(target, 'microsoft.graph.exclusionGroupAssignmentTarget')",
            "target eq null",
            "source eq 'direct'",
        ] {
            if let Err(e) = bind(&m.beta, "enrollmentConfigurationAssignment", f) {
                panic!("{f}: {} at {}", e.detail, e.at);
            }
        }
    }

    #[test]
    fn type_errors_name_the_position() {
        let m = models();
        let cases = [
            ("displayName eq 1", 12, "incompatible types"),
            ("bogus eq 1", 0, "could not find a property named 'bogus'"),
            ("limit ge 3", 0, "cast to it"),
            (
                "startswith(displayName)",
                0,
                "takes 2 arguments but 1 was given",
            ),
            ("priority", 0, "must be boolean"),
            (
                "deviceEnrollmentConfigurationType eq 'nope'",
                37,
                "not a valid enumeration",
            ),
            ("roleScopeTagIds eq '0'", 16, "collection"),
            ("assignments/any()", 0, "navigation property"),
            ("frobnicate(displayName)", 0, "unknown function"),
            ("createdDateTime gt '2024-01-01'", 16, "incompatible"),
            ("roleScopeTagIds/all()", 16, "needs a variable"),
            (
                "microsoft.graph.groupAssignmentTarget/groupId eq 'x'",
                0,
                "does not derive",
            ),
            ("priority and true", 0, "boolean operand"),
        ];
        for (f, at, msg) in cases {
            match bind(&m.beta, C, f) {
                Ok(_) => panic!("{f} bound"),
                Err(e) => {
                    assert!(e.detail.contains(msg), "{f}: {}", e.detail);
                    assert_eq!(e.at, at, "{f}: {}", e.detail);
                }
            }
        }
    }

    #[test]
    fn properties_unknown_to_a_version_are_unknown() {
        let m = models();
        assert!(bind(&m.beta, C, "roleScopeTagIds/any(t: t eq '0')").is_ok());
        assert!(bind(&m.v1, C, "roleScopeTagIds/any(t: t eq '0')").is_err());
        assert!(bind(
            &m.v1,
            C,
            "isof('microsoft.graph.windowsRestoreDeviceEnrollmentConfiguration')"
        )
        .is_err());
    }
}
