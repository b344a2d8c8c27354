//! Bounds on what one request may ask for, so that no query option can exhaust the stack, the
//! CPU or the memory: past any of them the request is a 400.

/// The longest option value accepted, in bytes (after percent-decoding).
pub const MAX_EXPRESSION_BYTES: usize = 8 * 1024;
/// The longest literal (string, name) accepted, in characters.
pub const MAX_LITERAL: usize = 1024;
/// The deepest nesting of an expression (parentheses, `not`, function arguments, lambdas).
pub const MAX_DEPTH: usize = 32;
/// The most nodes an expression may have.
pub const MAX_NODES: usize = 512;
/// The most `$orderby` keys.
pub const MAX_ORDERBY_KEYS: usize = 8;
/// The most `$select` items.
pub const MAX_SELECT_ITEMS: usize = 64;
/// The longest `$skiptoken` accepted, in bytes.
pub const MAX_SKIPTOKEN_BYTES: usize = 8 * 1024;
