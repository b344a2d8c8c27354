//! # odata: OData URL conventions, pure and without IO
//!
//! ## Layout
//! - [`path`]: resource paths (`deviceManagement/deviceEnrollmentConfigurations('id')/assign`)
//!   resolved against the EDM into a typed [`path::ResourcePath`]: keys in both `/{id}` and
//!   `('{id}')` forms, type-cast segments, `$count`, and bound operations matched
//!   case-insensitively with or without their namespace.
//! - [`context`]: `@odata.context` URLs as Graph writes them.
//! - [`query`]: the query options (`$filter`, `$select`, `$orderby`, `$top`, `$skip`,
//!   `$count`, `$expand`, `$search`) and keyset paging with `$skiptoken`: lexer → syntax tree
//!   with spans → binding against the EDM → evaluation; per-endpoint capabilities.

pub mod context;
pub mod path;
pub mod query;
