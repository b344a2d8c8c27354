//! The domain's errors. The API layer maps each variant to one Graph error code.

/// A failure of the storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or is overloaded; the request may be retried.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else; logged, never sent to clients.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Why an operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The request is malformed or breaks a rule; the message is sent to the client and
    /// names the property at fault where there is one.
    #[error("{0}")]
    BadRequest(String),
    /// No such configuration or assignment in this tenant.
    #[error("{0}")]
    NotFound(String),
    /// The operation is not allowed on this item (e.g. deleting a tenant default).
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DomainError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        DomainError::BadRequest(msg.into())
    }
}
