//! What each endpoint accepts: its query options, functions, operators, the largest `$top`,
//! the properties `$search` looks in, and what may be expanded. One table, so that each
//! endpoint accepts exactly what it documents (docs/query.md repeats it).

/// The capabilities of one endpoint.
#[derive(Debug)]
pub struct Capabilities {
    /// What the endpoint is, for messages: `deviceEnrollmentConfigurations`.
    pub name: &'static str,
    /// The system query options accepted (with `$`).
    pub options: &'static [&'static str],
    /// The functions `$filter`/`$orderby` may call.
    pub functions: &'static [&'static str],
    /// The operators `$filter` may use, lambda operators (`any`, `all`) and `$count` included.
    pub operators: &'static [&'static str],
    /// The largest `$top` (the server's page-size maximum applies as well).
    pub max_top: usize,
    /// The string properties `$search` matches; empty when `$search` is not supported.
    pub search: &'static [&'static str],
    /// Navigation properties that may be expanded, with what their nested options accept.
    pub expand: &'static [(&'static str, &'static Capabilities)],
}

impl Capabilities {
    pub fn allows_option(&self, name: &str) -> bool {
        self.options.iter().any(|o| o.eq_ignore_ascii_case(name))
    }

    pub fn allows_function(&self, name: &str) -> bool {
        self.functions.iter().any(|o| o.eq_ignore_ascii_case(name))
    }

    pub fn allows_operator(&self, name: &str) -> bool {
        self.operators.iter().any(|o| o.eq_ignore_ascii_case(name))
    }
}

/// Every system query option this server knows, supported somewhere or not.
pub const KNOWN_OPTIONS: &[&str] = &[
    "$filter",
    "$select",
    "$expand",
    "$orderby",
    "$top",
    "$skip",
    "$count",
    "$search",
    "$skiptoken",
    "$format",
    "$levels",
    "$apply",
    "$compute",
    "$deltatoken",
    "$index",
    "$schemaversion",
    "$id",
];

/// The string functions, the date parts and `isof`.
pub const ALL_FUNCTIONS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "tolower",
    "toupper",
    "trim",
    "length",
    "indexof",
    "substring",
    "concat",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "isof",
];

/// Comparison, logical, `in`, `has`, lambdas and `/$count`.
pub const ALL_OPERATORS: &[&str] = &[
    "eq", "ne", "gt", "ge", "lt", "le", "in", "has", "and", "or", "not", "any", "all", "$count",
];

/// The largest `$top` of every collection here.
pub const MAX_TOP: usize = 1000;

/// `GET …/deviceEnrollmentConfigurations[/cast]`.
pub static CONFIGURATIONS: Capabilities = Capabilities {
    name: "deviceEnrollmentConfigurations",
    options: &[
        "$filter",
        "$select",
        "$expand",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$search",
        "$skiptoken",
        "$format",
    ],
    functions: ALL_FUNCTIONS,
    operators: ALL_OPERATORS,
    max_top: MAX_TOP,
    search: &["displayName", "description"],
    expand: &[("assignments", &EXPANDED_ASSIGNMENTS)],
};

/// `GET …/deviceEnrollmentConfigurations[/cast]/$count`.
pub static CONFIGURATIONS_COUNT: Capabilities = Capabilities {
    name: "deviceEnrollmentConfigurations/$count",
    options: &["$filter", "$search", "$format"],
    functions: ALL_FUNCTIONS,
    operators: ALL_OPERATORS,
    max_top: MAX_TOP,
    search: &["displayName", "description"],
    expand: &[],
};

/// `GET …/deviceEnrollmentConfigurations/{id}[/cast]`.
pub static CONFIGURATION: Capabilities = Capabilities {
    name: "deviceEnrollmentConfiguration",
    options: &["$select", "$expand", "$format"],
    functions: &[],
    operators: &[],
    max_top: MAX_TOP,
    search: &[],
    expand: &[("assignments", &EXPANDED_ASSIGNMENTS)],
};

/// `$expand=assignments(…)` on a configuration.
pub static EXPANDED_ASSIGNMENTS: Capabilities = Capabilities {
    name: "assignments (expanded)",
    options: &["$filter", "$select", "$orderby", "$top", "$skip", "$count"],
    functions: ALL_FUNCTIONS,
    operators: ALL_OPERATORS,
    max_top: MAX_TOP,
    search: &[],
    expand: &[],
};

/// `GET …/{id}/assignments`.
pub static ASSIGNMENTS: Capabilities = Capabilities {
    name: "assignments",
    options: &[
        "$filter",
        "$select",
        "$orderby",
        "$top",
        "$skip",
        "$count",
        "$skiptoken",
        "$format",
    ],
    functions: ALL_FUNCTIONS,
    operators: ALL_OPERATORS,
    max_top: MAX_TOP,
    search: &[],
    expand: &[],
};

/// `GET …/{id}/assignments/$count`.
pub static ASSIGNMENTS_COUNT: Capabilities = Capabilities {
    name: "assignments/$count",
    options: &["$filter", "$format"],
    functions: ALL_FUNCTIONS,
    operators: ALL_OPERATORS,
    max_top: MAX_TOP,
    search: &[],
    expand: &[],
};

/// `GET …/assignments/{id}`.
pub static ASSIGNMENT: Capabilities = Capabilities {
    name: "enrollmentConfigurationAssignment",
    options: &["$select", "$format"],
    functions: &[],
    operators: &[],
    max_top: MAX_TOP,
    search: &[],
    expand: &[],
};

/// Writes and actions: no query option at all.
pub static NONE: Capabilities = Capabilities {
    name: "this request",
    options: &[],
    functions: &[],
    operators: &[],
    max_top: 0,
    search: &[],
    expand: &[],
};
