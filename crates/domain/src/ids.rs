//! Validated identifiers.

use std::fmt;

/// A tenant id: the `tid` claim of a token, a GUID, kept in lowercase hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    /// Parses a GUID (any case, with hyphens).
    pub fn parse(s: &str) -> Option<TenantId> {
        uuid::Uuid::try_parse(s)
            .ok()
            .filter(|_| s.len() == 36)
            .map(|u| TenantId(u.hyphenated().to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::TenantId;

    #[test]
    fn tenant_ids_are_guids_in_lowercase() {
        let t = TenantId::parse("4A3B5D3E-1111-2222-3333-444455556666");
        assert_eq!(
            t.map(|t| t.to_string()).as_deref(),
            Some("4a3b5d3e-1111-2222-3333-444455556666")
        );
        assert!(TenantId::parse("contoso").is_none());
        assert!(TenantId::parse("4a3b5d3e111122223333444455556666").is_none());
    }
}
