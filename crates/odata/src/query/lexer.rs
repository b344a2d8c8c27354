//! Tokens of the expression language, each with the byte span it was read from.
//!
//! The input is one query option's value, already percent-decoded once (by the HTTP layer).
//! ```text
//! token      = ident | string | number | datetime | date | guid | typed | punct
//! ident      = ( ALPHA / "_" / "$" ) *( ALPHA / DIGIT / "_" / "." )   ; dots make qualified names
//! string     = "'" *( char-but-quote / "''" ) "'"
//! number     = [ "-" ] 1*DIGIT [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
//! datetime   = date "T" hh ":" mm [ ":" ss [ "." 1*DIGIT ] ] ( "Z" / sign hh ":" mm )
//! date       = yyyy "-" mm "-" dd
//! guid       = 8HEX "-" 4HEX "-" 4HEX "-" 4HEX "-" 12HEX
//! typed      = ident string          ; enum `microsoft.graph.enablement'enabled'`, `guid'…'`
//! punct      = "(" / ")" / "," / "/" / ":" / "*"
//! ```
//! Every literal is bounded by [`super::limits::MAX_LITERAL`] characters.

use std::fmt;

use super::ast::{ExprError, Span};
use super::limits;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A name: property, function, keyword operator, qualified type name, `$it`, `$count`.
    Ident(String),
    /// A string literal, `''` unescaped.
    Str(String),
    Int(i64),
    Float(f64),
    /// A date or date-time literal: nanoseconds since the Unix epoch (UTC) and the source text.
    DateTime(i128, String),
    /// A GUID, lowercased.
    Guid(String),
    /// `Type'value'`: a typed literal (enum member, or `guid'…'`/`datetime'…'`).
    Typed(String, String),
    LParen,
    RParen,
    Comma,
    Slash,
    Colon,
    Star,
    Eof,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "'{s}'"),
            Tok::Str(_) => f.write_str("a string literal"),
            Tok::Int(_) | Tok::Float(_) => f.write_str("a number"),
            Tok::DateTime(_, s) => write!(f, "'{s}'"),
            Tok::Guid(s) => write!(f, "'{s}'"),
            Tok::Typed(t, _) => write!(f, "a '{t}' literal"),
            Tok::LParen => f.write_str("'('"),
            Tok::RParen => f.write_str("')'"),
            Tok::Comma => f.write_str("','"),
            Tok::Slash => f.write_str("'/'"),
            Tok::Colon => f.write_str("':'"),
            Tok::Star => f.write_str("'*'"),
            Tok::Eof => f.write_str("the end of the expression"),
        }
    }
}

/// A token and where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
}

fn err(detail: impl Into<String>, at: usize) -> ExprError {
    ExprError {
        detail: detail.into(),
        at,
    }
}

/// Splits `text` into tokens, ending with [`Tok::Eof`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, ExprError> {
    if text.len() > limits::MAX_EXPRESSION_BYTES {
        return Err(err(
            format!(
                "the expression is longer than {} bytes",
                limits::MAX_EXPRESSION_BYTES
            ),
            0,
        ));
    }
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b',' => Some(Tok::Comma),
            b'/' => Some(Tok::Slash),
            b':' => Some(Tok::Colon),
            b'*' => Some(Tok::Star),
            _ => None,
        };
        if let Some(tok) = single {
            i += 1;
            out.push(Token {
                tok,
                span: Span::new(start, i),
            });
            continue;
        }
        let (tok, end) = if c == b'\'' {
            let (s, end) = string(text, i)?;
            (Tok::Str(s), end)
        } else if let Some(end) = guid_at(b, i) {
            (Tok::Guid(text[i..end].to_ascii_lowercase()), end)
        } else if let Some((nanos, end)) = datetime_at(text, i)? {
            (Tok::DateTime(nanos, text[i..end].to_owned()), end)
        } else if c.is_ascii_digit() || (c == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            number(text, i)?
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' {
            let mut end = i + 1;
            while end < b.len()
                && (b[end].is_ascii_alphanumeric() || b[end] == b'_' || b[end] == b'.')
            {
                end += 1;
            }
            if end - i > limits::MAX_LITERAL {
                return Err(err(
                    format!("a name is longer than {} characters", limits::MAX_LITERAL),
                    i,
                ));
            }
            let name = text[i..end].to_owned();
            if b.get(end) == Some(&b'\'') {
                let (value, send) = string(text, end)?;
                (typed(name, value, i)?, send)
            } else {
                (Tok::Ident(name), end)
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or('?');
            return Err(err(format!("unexpected character '{ch}'"), i));
        };
        out.push(Token {
            tok,
            span: Span::new(start, end),
        });
        i = end;
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(b.len(), b.len()),
    });
    Ok(out)
}

/// A typed literal: `guid'…'`, `datetime'…'`/`datetimeoffset'…'` (OData v3 spellings that
/// older clients send), else an enum literal `Namespace.Type'member'`.
fn typed(name: String, value: String, at: usize) -> Result<Tok, ExprError> {
    if name.eq_ignore_ascii_case("guid") {
        return if guid_at(value.as_bytes(), 0) == Some(value.len()) {
            Ok(Tok::Guid(value.to_ascii_lowercase()))
        } else {
            Err(err(format!("'{value}' is not a valid GUID"), at))
        };
    }
    if name.eq_ignore_ascii_case("datetime") || name.eq_ignore_ascii_case("datetimeoffset") {
        return match datetime_at(&value, 0)? {
            Some((nanos, end)) if end == value.len() => Ok(Tok::DateTime(nanos, value)),
            _ => Err(err(format!("'{value}' is not a valid date-time"), at)),
        };
    }
    Ok(Tok::Typed(name, value))
}

/// A quoted string starting at `start` (the opening quote); returns the unescaped text and the
/// end of the literal.
fn string(text: &str, start: usize) -> Result<(String, usize), ExprError> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut i = start + 1;
    let mut run = i;
    loop {
        match b.get(i) {
            None => return Err(err("unterminated string literal", start)),
            Some(b'\'') if b.get(i + 1) == Some(&b'\'') => {
                out.push_str(&text[run..=i]);
                i += 2;
                run = i;
            }
            Some(b'\'') => {
                out.push_str(&text[run..i]);
                if out.chars().count() > limits::MAX_LITERAL {
                    return Err(err(
                        format!(
                            "a string literal is longer than {} characters",
                            limits::MAX_LITERAL
                        ),
                        start,
                    ));
                }
                return Ok((out, i + 1));
            }
            Some(_) => i += 1,
        }
    }
}

fn hex_run(b: &[u8], at: usize, n: usize) -> bool {
    b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_hexdigit)
}

fn ends_word(b: &[u8], at: usize) -> bool {
    b.get(at)
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.' || *c == b'-'))
}

/// True if `s` is exactly a GUID (8-4-4-4-12 hex digits).
pub fn is_guid(s: &str) -> bool {
    guid_at(s.as_bytes(), 0) == Some(s.len())
}

/// The end of a GUID starting at `at`, if one does.
fn guid_at(b: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    for (n, last) in [(8, false), (4, false), (4, false), (4, false), (12, true)] {
        if !hex_run(b, i, n) {
            return None;
        }
        i += n;
        if !last {
            if b.get(i) != Some(&b'-') {
                return None;
            }
            i += 1;
        }
    }
    ends_word(b, i).then_some(i)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    if !(b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_digit)) {
        return None;
    }
    let mut v = 0u32;
    for d in &b[at..at + n] {
        v = v * 10 + u32::from(d - b'0');
    }
    Some(v)
}

/// A date (`2024-01-31`, midnight UTC) or date-time literal at `at`.
pub(crate) fn datetime_at(text: &str, at: usize) -> Result<Option<(i128, usize)>, ExprError> {
    let b = text.as_bytes();
    let (Some(year), Some(month), Some(day)) =
        (digits(b, at, 4), digits(b, at + 5, 2), digits(b, at + 8, 2))
    else {
        return Ok(None);
    };
    if b.get(at + 4) != Some(&b'-') || b.get(at + 7) != Some(&b'-') {
        return Ok(None);
    }
    let bad = |what: &str| err(format!("'{what}' is not a valid date-time"), at);
    let month = time::Month::try_from(u8::try_from(month).unwrap_or(0))
        .map_err(|_| bad(&text[at..at + 10]))?;
    let date = time::Date::from_calendar_date(
        i32::try_from(year).unwrap_or(0),
        month,
        u8::try_from(day).unwrap_or(0),
    )
    .map_err(|_| bad(&text[at..at + 10]))?;
    let mut i = at + 10;
    if b.get(i) != Some(&b'T') && b.get(i) != Some(&b't') {
        if !ends_word(b, i) {
            return Ok(None);
        }
        let nanos = date.midnight().assume_utc().unix_timestamp_nanos();
        return Ok(Some((nanos, i)));
    }
    i += 1;
    let (Some(h), Some(m)) = (digits(b, i, 2), digits(b, i + 3, 2)) else {
        return Err(bad(&text[at..i]));
    };
    if b.get(i + 2) != Some(&b':') {
        return Err(bad(&text[at..i]));
    }
    i += 5;
    let mut s = 0;
    let mut nanos = 0u32;
    if b.get(i) == Some(&b':') {
        s = digits(b, i + 1, 2).ok_or_else(|| bad(&text[at..i]))?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let fs = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == fs || i - fs > 12 {
                return Err(bad(&text[at..i]));
            }
            let mut frac = text[fs..i.min(fs + 9)].to_owned();
            while frac.len() < 9 {
                frac.push('0');
            }
            nanos = frac.parse().unwrap_or(0);
        }
    }
    let offset_secs: i32 = match b.get(i) {
        Some(b'Z' | b'z') => {
            i += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            let (Some(oh), Some(om)) = (digits(b, i + 1, 2), digits(b, i + 4, 2)) else {
                return Err(bad(&text[at..i]));
            };
            if b.get(i + 3) != Some(&b':') || oh > 23 || om > 59 {
                return Err(bad(&text[at..i]));
            }
            i += 6;
            let v = i32::try_from(oh * 3600 + om * 60).unwrap_or(0);
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return Err(bad(&text[at..i])),
    };
    if !ends_word(b, i) {
        return Err(bad(&text[at..i]));
    }
    let time = time::Time::from_hms_nano(
        u8::try_from(h).unwrap_or(99),
        u8::try_from(m).unwrap_or(99),
        u8::try_from(s).unwrap_or(99),
        nanos,
    )
    .map_err(|_| bad(&text[at..i]))?;
    let offset = time::UtcOffset::from_whole_seconds(offset_secs).map_err(|_| bad(&text[at..i]))?;
    let value = time::PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .unix_timestamp_nanos();
    Ok(Some((value, i)))
}

fn number(text: &str, start: usize) -> Result<(Tok, usize), ExprError> {
    let b = text.as_bytes();
    let mut i = start;
    if b[i] == b'-' {
        i += 1;
    }
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut float = false;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        float = true;
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            float = true;
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    if i - start > 64 {
        return Err(err("a number literal is too long", start));
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return Err(err(
            format!("'{}' is not a valid number", &text[start..=i]),
            start,
        ));
    }
    let s = &text[start..i];
    let tok = if float {
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Tok::Float(v),
            _ => return Err(err(format!("'{s}' is out of range"), start)),
        }
    } else {
        match s.parse::<i64>() {
            Ok(v) => Tok::Int(v),
            Err(_) => return Err(err(format!("'{s}' is out of range"), start)),
        }
    };
    Ok((tok, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s)
            .map(|v| v.into_iter().map(|t| t.tok).collect())
            .unwrap_or_default()
    }

    #[test]
    fn strings_unescape_doubled_quotes() {
        assert_eq!(
            toks("displayName eq 'it''s'"),
            vec![
                Tok::Ident("displayName".into()),
                Tok::Ident("eq".into()),
                Tok::Str("it's".into()),
                Tok::Eof
            ]
        );
        assert_eq!(toks("''''"), vec![Tok::Str("'".into()), Tok::Eof]);
    }

    #[test]
    fn literals_of_every_kind() {
        let t = toks("-3 2.5 1e3 2024-01-02 2024-01-02T03:04:05.1234567Z 0f6d5ee9-2a3b-4c1d-9e8f-7a6b5c4d3e2f microsoft.graph.enablement'enabled'");
        assert_eq!(t[0], Tok::Int(-3));
        assert_eq!(t[1], Tok::Float(2.5));
        assert_eq!(t[2], Tok::Float(1000.0));
        assert!(matches!(t[3], Tok::DateTime(n, _) if n == 1_704_153_600_000_000_000));
        assert!(matches!(t[4], Tok::DateTime(n, _) if n == 1_704_164_645_123_456_700));
        assert!(matches!(&t[5], Tok::Guid(g) if g.starts_with("0f6d5ee9")));
        assert_eq!(
            t[6],
            Tok::Typed("microsoft.graph.enablement".into(), "enabled".into())
        );
    }

    #[test]
    fn guids_that_start_with_letters_are_not_names() {
        let t = toks("abcdef01-2a3b-4c1d-9e8f-7a6b5c4d3e2f");
        assert_eq!(
            t[0],
            Tok::Guid("abcdef01-2a3b-4c1d-9e8f-7a6b5c4d3e2f".into())
        );
    }

    #[test]
    fn errors_carry_the_byte_offset() {
        let e = tokenize("a eq 'open").err();
        assert_eq!(e.map(|e| e.at), Some(5));
        let e = tokenize("a eq #").err();
        assert_eq!(e.map(|e| e.at), Some(5));
        assert!(tokenize("x eq 2024-13-01").is_err());
        assert!(tokenize("x eq 99999999999999999999").is_err());
        assert!(tokenize("x eq 12abc").is_err());
    }
}
