//! Recursive-descent parser of `$filter`, `$orderby` and `$select` into the syntax tree.
//!
//! Grammar (keywords match case-insensitively; precedence from loosest to tightest):
//! ```text
//! filter      = expr EOF
//! expr        = or-expr
//! or-expr     = and-expr *( "or" and-expr )
//! and-expr    = eq-expr *( "and" eq-expr )
//! eq-expr     = rel-expr *( ( "eq" / "ne" ) rel-expr )
//! rel-expr    = unary *( ( "gt" / "ge" / "lt" / "le" / "has" ) unary / "in" list )
//! unary       = "not" unary / primary
//! primary     = literal / "(" expr ")" / call / member
//! call        = ident "(" [ expr *( "," expr ) ] ")"
//! member      = segment *( "/" segment ) [ "/" lambda ]
//! segment     = ident                 ; property, qualified type name (cast), $count, $it, variable
//! lambda      = ( "any" / "all" ) "(" [ ident ":" expr ] ")"
//! list        = "(" primary *( "," primary ) ")"
//! literal     = string / number / date / datetime / guid / typed / "null" / "true" / "false"
//!
//! orderby     = order-item *( "," order-item ) EOF
//! order-item  = expr [ "asc" / "desc" ]
//!
//! select      = select-item *( "," select-item ) EOF
//! select-item = "*" / segment *( "/" segment )
//! ```
//! Nesting is bounded by [`limits::MAX_DEPTH`] and the tree by [`limits::MAX_NODES`], so no
//! input can overflow the stack or take long to parse.

use super::ast::{
    BinOp, Direction, Expr, ExprError, ExprKind, LambdaOp, Literal, OrderItem, Segment, SelectItem,
    Span,
};
use super::lexer::{tokenize, Tok, Token};
use super::limits;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    nodes: usize,
}

fn is_kw(tok: &Tok, kw: &str) -> bool {
    matches!(tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
}

impl Parser {
    fn new(text: &str) -> Result<Parser, ExprError> {
        Ok(Parser {
            tokens: tokenize(text)?,
            pos: 0,
            depth: 0,
            nodes: 0,
        })
    }

    fn peek(&self) -> &Token {
        // `tokenize` always ends with Eof, and `bump` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn at_kw(&self, kw: &str) -> bool {
        is_kw(&self.peek().tok, kw)
    }

    fn expect(&mut self, want: &Tok, what: &str) -> Result<Token, ExprError> {
        let t = self.peek();
        if &t.tok == want {
            Ok(self.bump())
        } else {
            Err(ExprError::new(
                format!("expected {what} but found {}", t.tok),
                t.span.start,
            ))
        }
    }

    fn node(&mut self, kind: ExprKind, span: Span) -> Result<Expr, ExprError> {
        self.nodes += 1;
        if self.nodes > limits::MAX_NODES {
            return Err(ExprError::new(
                format!("the expression has more than {} nodes", limits::MAX_NODES),
                span.start,
            ));
        }
        Ok(Expr { kind, span })
    }

    fn descend(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > limits::MAX_DEPTH {
            return Err(ExprError::new(
                format!(
                    "the expression is nested more than {} levels deep",
                    limits::MAX_DEPTH
                ),
                self.peek().span.start,
            ));
        }
        Ok(())
    }

    fn end(&self) -> Result<(), ExprError> {
        let t = self.peek();
        if t.tok == Tok::Eof {
            Ok(())
        } else {
            Err(ExprError::new(
                format!("unexpected {} after the end of the expression", t.tok),
                t.span.start,
            ))
        }
    }

    /// `expr = or-expr`
    fn parse_expr(&mut self) -> Result<Expr, ExprError> {
        self.descend()?;
        let r = self.parse_or();
        self.depth -= 1;
        r
    }

    fn binary(
        &mut self,
        op: BinOp,
        op_span: Span,
        lhs: Expr,
        rhs: Expr,
    ) -> Result<Expr, ExprError> {
        let span = lhs.span.to(rhs.span);
        self.node(
            ExprKind::Binary {
                op,
                op_span,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
            span,
        )
    }

    /// `or-expr = and-expr *( "or" and-expr )`
    fn parse_or(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.parse_and()?;
        while self.at_kw("or") {
            let op = self.bump().span;
            let rhs = self.parse_and()?;
            lhs = self.binary(BinOp::Or, op, lhs, rhs)?;
        }
        Ok(lhs)
    }

    /// `and-expr = eq-expr *( "and" eq-expr )`
    fn parse_and(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.parse_eq()?;
        while self.at_kw("and") {
            let op = self.bump().span;
            let rhs = self.parse_eq()?;
            lhs = self.binary(BinOp::And, op, lhs, rhs)?;
        }
        Ok(lhs)
    }

    /// `eq-expr = rel-expr *( ( "eq" / "ne" ) rel-expr )`
    fn parse_eq(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.parse_rel()?;
        loop {
            let op = if self.at_kw("eq") {
                BinOp::Eq
            } else if self.at_kw("ne") {
                BinOp::Ne
            } else {
                return Ok(lhs);
            };
            let op_span = self.bump().span;
            let rhs = self.parse_rel()?;
            lhs = self.binary(op, op_span, lhs, rhs)?;
        }
    }

    /// `rel-expr = unary *( ( "gt" / "ge" / "lt" / "le" / "has" ) unary / "in" list )`
    fn parse_rel(&mut self) -> Result<Expr, ExprError> {
        let mut lhs = self.parse_unary()?;
        loop {
            let op = [
                ("gt", BinOp::Gt),
                ("ge", BinOp::Ge),
                ("lt", BinOp::Lt),
                ("le", BinOp::Le),
                ("has", BinOp::Has),
            ]
            .into_iter()
            .find(|(kw, _)| self.at_kw(kw))
            .map(|(_, op)| op);
            if let Some(op) = op {
                let op_span = self.bump().span;
                let rhs = self.parse_unary()?;
                lhs = self.binary(op, op_span, lhs, rhs)?;
            } else if self.at_kw("in") {
                let op_span = self.bump().span;
                let (items, close) = self.parse_list()?;
                let span = lhs.span.to(close);
                lhs = self.node(
                    ExprKind::In {
                        lhs: Box::new(lhs),
                        op_span,
                        items,
                    },
                    span,
                )?;
            } else {
                return Ok(lhs);
            }
        }
    }

    /// `list = "(" primary *( "," primary ) ")"`
    fn parse_list(&mut self) -> Result<(Vec<Expr>, Span), ExprError> {
        self.expect(&Tok::LParen, "'(' to open the list of 'in'")?;
        let mut items = vec![self.parse_primary()?];
        while self.peek().tok == Tok::Comma {
            self.bump();
            items.push(self.parse_primary()?);
        }
        let close = self.expect(&Tok::RParen, "',' or ')' in the list of 'in'")?;
        Ok((items, close.span))
    }

    /// `unary = "not" unary / primary`
    fn parse_unary(&mut self) -> Result<Expr, ExprError> {
        if self.at_kw("not") && !matches!(self.peek_at(1), Tok::Slash | Tok::Eof) {
            let op = self.bump().span;
            self.descend()?;
            let operand = self.parse_unary();
            self.depth -= 1;
            let operand = operand?;
            let span = op.to(operand.span);
            return self.node(ExprKind::Not(Box::new(operand)), span);
        }
        self.parse_primary()
    }

    /// `primary = literal / "(" expr ")" / call / member`
    fn parse_primary(&mut self) -> Result<Expr, ExprError> {
        let t = self.peek().clone();
        let lit = match &t.tok {
            Tok::Str(s) => Some(Literal::String(s.clone())),
            Tok::Int(i) => Some(Literal::Int(*i)),
            Tok::Float(f) => Some(Literal::Float(*f)),
            Tok::DateTime(n, s) => Some(Literal::DateTime(*n, s.clone())),
            Tok::Guid(g) => Some(Literal::Guid(g.clone())),
            Tok::Typed(ty, v) => Some(Literal::Typed(ty.clone(), v.clone())),
            Tok::Ident(s) if self.peek_at(1) != &Tok::Slash && self.peek_at(1) != &Tok::LParen => {
                if s.eq_ignore_ascii_case("null") {
                    Some(Literal::Null)
                } else if s.eq_ignore_ascii_case("true") {
                    Some(Literal::Bool(true))
                } else if s.eq_ignore_ascii_case("false") {
                    Some(Literal::Bool(false))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(lit) = lit {
            self.bump();
            return self.node(ExprKind::Literal(lit), t.span);
        }
        match &t.tok {
            Tok::LParen => {
                self.bump();
                let inner = self.parse_expr()?;
                let close = self.expect(&Tok::RParen, "')'")?;
                // Parentheses are kept only as a span.
                Ok(Expr {
                    kind: inner.kind,
                    span: t.span.to(close.span),
                })
            }
            Tok::Ident(name) if self.peek_at(1) == &Tok::LParen => {
                let name = Segment {
                    name: name.clone(),
                    span: t.span,
                };
                self.bump();
                self.parse_call(name)
            }
            Tok::Ident(_) => self.parse_member(),
            Tok::Eof => Err(ExprError::new(
                "the expression ends where a value was expected",
                t.span.start,
            )),
            other => Err(ExprError::new(
                format!("expected a value but found {other}"),
                t.span.start,
            )),
        }
    }

    /// `call = ident "(" [ expr *( "," expr ) ] ")"`
    fn parse_call(&mut self, name: Segment) -> Result<Expr, ExprError> {
        self.expect(&Tok::LParen, "'('")?;
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            args.push(self.parse_expr()?);
            while self.peek().tok == Tok::Comma {
                self.bump();
                args.push(self.parse_expr()?);
            }
        }
        let close = self.expect(&Tok::RParen, "',' or ')' after a function argument")?;
        let span = name.span.to(close.span);
        self.node(ExprKind::Call { name, args }, span)
    }

    fn segment(&mut self) -> Result<Segment, ExprError> {
        let t = self.bump();
        match t.tok {
            Tok::Ident(name) => Ok(Segment { name, span: t.span }),
            other => Err(ExprError::new(
                format!("expected a property name but found {other}"),
                t.span.start,
            )),
        }
    }

    /// `member = segment *( "/" segment ) [ "/" lambda ]`
    fn parse_member(&mut self) -> Result<Expr, ExprError> {
        let mut segments = vec![self.segment()?];
        while self.peek().tok == Tok::Slash {
            self.bump();
            let is_lambda =
                (self.at_kw("any") || self.at_kw("all")) && self.peek_at(1) == &Tok::LParen;
            if is_lambda {
                return self.parse_lambda(segments);
            }
            segments.push(self.segment()?);
        }
        let span = segments
            .iter()
            .fold(segments[0].span, |acc, s| acc.to(s.span));
        self.node(ExprKind::Member(segments), span)
    }

    /// `lambda = ( "any" / "all" ) "(" [ ident ":" expr ] ")"`
    fn parse_lambda(&mut self, source: Vec<Segment>) -> Result<Expr, ExprError> {
        let kw = self.bump();
        let op = if is_kw(&kw.tok, "any") {
            LambdaOp::Any
        } else {
            LambdaOp::All
        };
        self.expect(&Tok::LParen, "'('")?;
        let (var, body) = if self.peek().tok == Tok::RParen {
            (None, None)
        } else {
            let var = self.segment()?;
            self.expect(&Tok::Colon, "':' after the lambda variable")?;
            self.descend()?;
            let body = self.parse_expr();
            self.depth -= 1;
            (Some(var), Some(Box::new(body?)))
        };
        let close = self.expect(&Tok::RParen, "')' to close the lambda")?;
        let span = source[0].span.to(close.span);
        self.node(
            ExprKind::Lambda {
                source,
                op,
                op_span: kw.span,
                var,
                body,
            },
            span,
        )
    }
}

/// Parses a `$filter` value: `filter = expr EOF`.
pub fn parse_filter(text: &str) -> Result<Expr, ExprError> {
    let mut p = Parser::new(text)?;
    if p.peek().tok == Tok::Eof {
        return Err(ExprError::new("the expression is empty", 0));
    }
    let e = p.parse_expr()?;
    p.end()?;
    Ok(e)
}

/// Parses an `$orderby` value: `orderby = order-item *( "," order-item ) EOF`,
/// `order-item = expr [ "asc" / "desc" ]`.
pub fn parse_orderby(text: &str) -> Result<Vec<OrderItem>, ExprError> {
    let mut p = Parser::new(text)?;
    let mut items = Vec::new();
    loop {
        if items.len() == limits::MAX_ORDERBY_KEYS {
            return Err(ExprError::new(
                format!("more than {} sort keys", limits::MAX_ORDERBY_KEYS),
                p.peek().span.start,
            ));
        }
        let expr = p.parse_expr()?;
        let direction = if p.at_kw("asc") {
            p.bump();
            Direction::Asc
        } else if p.at_kw("desc") {
            p.bump();
            Direction::Desc
        } else {
            Direction::Asc
        };
        items.push(OrderItem { expr, direction });
        if p.peek().tok == Tok::Comma {
            p.bump();
            continue;
        }
        p.end()?;
        return Ok(items);
    }
}

/// Parses a `$select` value: `select = select-item *( "," select-item ) EOF`,
/// `select-item = "*" / segment *( "/" segment )`.
pub fn parse_select(text: &str) -> Result<Vec<SelectItem>, ExprError> {
    let mut p = Parser::new(text)?;
    let mut items = Vec::new();
    loop {
        if items.len() == limits::MAX_SELECT_ITEMS {
            return Err(ExprError::new(
                format!("more than {} selected properties", limits::MAX_SELECT_ITEMS),
                p.peek().span.start,
            ));
        }
        if p.peek().tok == Tok::Star {
            items.push(SelectItem::Star(p.bump().span));
        } else {
            let mut segs = vec![p.segment()?];
            while p.peek().tok == Tok::Slash {
                p.bump();
                segs.push(p.segment()?);
            }
            items.push(SelectItem::Path(segs));
        }
        if p.peek().tok == Tok::Comma {
            p.bump();
            continue;
        }
        p.end()?;
        return Ok(items);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Literal(l) => format!("{l:?}"),
            ExprKind::Member(s) => s
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join("/"),
            ExprKind::Lambda {
                source, op, body, ..
            } => format!(
                "{}/{op:?}({})",
                source
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join("/"),
                body.as_ref().map(|b| show(b)).unwrap_or_default()
            ),
            ExprKind::Call { name, args } => format!(
                "{}({})",
                name.name,
                args.iter().map(show).collect::<Vec<_>>().join(",")
            ),
            ExprKind::Not(x) => format!("not({})", show(x)),
            ExprKind::Binary { op, lhs, rhs, .. } => {
                format!("({} {} {})", show(lhs), op.keyword(), show(rhs))
            }
            ExprKind::In { lhs, items, .. } => format!(
                "({} in [{}])",
                show(lhs),
                items.iter().map(show).collect::<Vec<_>>().join(",")
            ),
        }
    }

    fn p(s: &str) -> String {
        match parse_filter(s) {
            Ok(e) => show(&e),
            Err(e) => format!("error at {}: {}", e.at, e.detail),
        }
    }

    #[test]
    fn precedence_follows_the_odata_table() {
        assert_eq!(
            p("a eq 1 or b eq 2 and c eq 3"),
            "((a eq Int(1)) or ((b eq Int(2)) and (c eq Int(3))))"
        );
        assert_eq!(
            p("(a eq 1 or b eq 2) and not c"),
            "(((a eq Int(1)) or (b eq Int(2))) and not(c))"
        );
        assert_eq!(p("a gt 1 eq true"), "((a gt Int(1)) eq Bool(true))");
        assert_eq!(p("x in ('a', 'b')"), "(x in [String(\"a\"),String(\"b\")])");
        assert_eq!(
            p("not startswith(displayName,'x')"),
            "not(startswith(displayName,String(\"x\")))"
        );
    }

    #[test]
    fn lambdas_casts_and_paths() {
        assert_eq!(
            p("roleScopeTagIds/any(t: t eq '0')"),
            "roleScopeTagIds/Any((t eq String(\"0\")))"
        );
        assert_eq!(p("roleScopeTagIds/any()"), "roleScopeTagIds/Any()");
        assert_eq!(
            p("target/microsoft.graph.groupAssignmentTarget/groupId eq 'g'"),
            "(target/microsoft.graph.groupAssignmentTarget/groupId eq String(\"g\"))"
        );
    }

    #[test]
    fn syntax_errors_name_the_offset() {
        assert_eq!(
            p("a eq"),
            "error at 4: the expression ends where a value was expected"
        );
        assert_eq!(
            p("a eq 1)"),
            "error at 6: unexpected ')' after the end of the expression"
        );
        assert!(p("(a eq 1").starts_with("error at 7"));
        assert!(p("").starts_with("error at 0"));
        assert!(p("x/any(t t eq 1)").starts_with("error at 8"));
    }

    #[test]
    fn nesting_and_size_are_bounded() {
        let deep = format!("{}a eq 1{}", "(".repeat(3000), ")".repeat(3000));
        assert!(p(&deep).contains("nested more than"));
        let nots = format!("{}true", "not ".repeat(1000));
        assert!(p(&nots).contains("nested more than"));
        let wide = (0..600)
            .map(|i| format!("a eq {i}"))
            .collect::<Vec<_>>()
            .join(" or ");
        assert!(p(&wide).contains("nodes") || p(&wide).contains("longer than"));
    }

    #[test]
    fn orderby_and_select() -> Result<(), ExprError> {
        let o = parse_orderby("priority desc, displayName")?;
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].direction, Direction::Desc);
        assert_eq!(o[1].direction, Direction::Asc);
        let s = parse_select("id, microsoft.graph.deviceEnrollmentLimitConfiguration/limit,*")?;
        assert_eq!(s.len(), 3);
        assert!(parse_select("id,").is_err());
        Ok(())
    }
}
