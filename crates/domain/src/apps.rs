//! Applications registered for the token endpoint (OAuth 2.0 client credentials).
//!
//! Registering an application does not set the tenant up: its defaults appear on the tenant's
//! first Graph request, as for any tenant.

use crate::error::DomainError;
use crate::ids::TenantId;
use crate::record::App;
use crate::service::Service;
use crate::store;

impl Service {
    /// Registers an application; its client id must be new in the tenant.
    pub async fn register_app(&self, tenant: &TenantId, app: App) -> Result<(), DomainError> {
        store::write(self.store(), tenant, move |tx| {
            if tx.get_app(&app.client_id)?.is_some() {
                return Err(DomainError::bad_request(format!(
                    "An application with client id '{}' is already registered.",
                    app.client_id
                )));
            }
            tx.insert_app(&app)?;
            Ok(())
        })
        .await
    }

    /// The tenant's applications.
    pub async fn list_apps(&self, tenant: &TenantId) -> Result<Vec<App>, DomainError> {
        store::read(self.store(), tenant, |tx| Ok(tx.list_apps()?)).await
    }

    /// One application, if registered.
    pub async fn find_app(
        &self,
        tenant: &TenantId,
        client_id: &str,
    ) -> Result<Option<App>, DomainError> {
        let client_id = client_id.to_owned();
        store::read(self.store(), tenant, move |tx| Ok(tx.get_app(&client_id)?)).await
    }

    /// Removes an application; false if it was not registered.
    pub async fn remove_app(
        &self,
        tenant: &TenantId,
        client_id: &str,
    ) -> Result<bool, DomainError> {
        let client_id = client_id.to_owned();
        store::write(self.store(), tenant, move |tx| {
            Ok(tx.delete_app(&client_id)?)
        })
        .await
    }
}
