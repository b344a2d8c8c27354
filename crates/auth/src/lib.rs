//! # auth: bearer tokens as Microsoft Graph accepts them
//!
//! ## Layout
//! - [`Keys`]: the server's own Ed25519 signing key (created in the data dir on first start,
//!   readable by its owner only) plus any further trusted public keys (PEM: RSA, EC or Ed25519).
//! - [`Keys::verify`]: signature, `exp`/`nbf` with a small leeway, the Graph audience, the
//!   tenant (`tid`) and the permissions (`scp` for delegated, `roles` for app-only tokens),
//!   giving a [`Principal`].
//! - [`Keys::mint`]: dev tokens signed with the server's key, for the CLI and tests.
//!
//! Unsigned tokens (`alg: none`), unknown keys, expired tokens and other audiences are refused.

use std::path::Path;

use base64::Engine;
use domain::TenantId;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

pub mod cache;

/// Audiences accepted: Graph's resource URI and its application id.
pub const AUDIENCES: &[&str] = &[
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
];

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECONDS: u64 = 60;

/// Permissions that allow reading configurations.
pub const READ_PERMISSIONS: &[&str] = &[
    "DeviceManagementServiceConfig.Read.All",
    "DeviceManagementServiceConfig.ReadWrite.All",
    "DeviceManagementConfiguration.Read.All",
    "DeviceManagementConfiguration.ReadWrite.All",
];

/// Permissions that allow writes and actions.
pub const WRITE_PERMISSIONS: &[&str] = &[
    "DeviceManagementServiceConfig.ReadWrite.All",
    "DeviceManagementConfiguration.ReadWrite.All",
];

/// The default permission of minted dev tokens.
pub const DEFAULT_PERMISSION: &str = "DeviceManagementServiceConfig.ReadWrite.All";

const KEY_FILE: &str = "signing-key.pem";

/// Why a token or the key material was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is not acceptable; the message is safe to send.
    #[error("{0}")]
    InvalidToken(String),
    #[error("key material: {0}")]
    Key(String),
    #[error("key file: {0}")]
    Io(#[from] std::io::Error),
}

/// Who is calling, from a verified token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: TenantId,
    /// `oid`, else `sub`.
    pub subject: String,
    /// `appid`/`azp` where present.
    pub app_id: Option<String>,
    /// Delegated scopes or application roles.
    pub permissions: Vec<String>,
    /// True for application (`roles`) tokens.
    pub app_only: bool,
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    /// The permissions that satisfy this access.
    pub fn accepted(self) -> &'static [&'static str] {
        match self {
            Access::Read => READ_PERMISSIONS,
            Access::Write => WRITE_PERMISSIONS,
        }
    }
}

impl Principal {
    /// Whether the token carries a permission that grants `access`.
    pub fn allows(&self, access: Access) -> bool {
        self.permissions
            .iter()
            .any(|p| access.accepted().iter().any(|a| a.eq_ignore_ascii_case(p)))
    }
}

/// The claims enrollgraph reads and writes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub tid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<String>,
}

struct Trusted {
    kid: Option<String>,
    alg: Algorithm,
    key: DecodingKey,
}

/// The signing key and every trusted verification key.
pub struct Keys {
    signing: EncodingKey,
    kid: String,
    trusted: Vec<Trusted>,
    /// Tokens verified before, until they expire.
    cache: cache::TokenCache,
    /// A secret derived from the private key, from which [`Keys::derive_secret`] derives
    /// per-purpose keys (never the signing key itself).
    seed: [u8; 32],
    /// The raw Ed25519 public key, published in the JWKS document.
    public: Vec<u8>,
}

fn key_id(public: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, public);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..12])
}

fn pem_wrap(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END PRIVATE KEY-----\n");
    out
}

fn pem_unwrap(pem: &str) -> Result<Vec<u8>, AuthError> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| AuthError::Key(format!("bad PEM: {e}")))
}

impl Keys {
    /// Loads the signing key from `data_dir`, creating it (mode 0600) if absent.
    pub fn load_or_create(data_dir: &Path) -> Result<Keys, AuthError> {
        let path = data_dir.join(KEY_FILE);
        let der = if path.exists() {
            check_private(&path)?;
            pem_unwrap(&std::fs::read_to_string(&path)?)?
        } else {
            std::fs::create_dir_all(data_dir)?;
            let rng = ring::rand::SystemRandom::new();
            let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|e| AuthError::Key(e.to_string()))?;
            write_private(&path, pem_wrap(doc.as_ref()).as_bytes())?;
            doc.as_ref().to_vec()
        };
        Keys::from_pkcs8(&der)
    }

    /// Loads the signing key from a PEM file (refused if group- or world-readable), so that
    /// several nodes can share one identity.
    pub fn load_file(path: &Path) -> Result<Keys, AuthError> {
        check_private(path)?;
        Keys::from_pem(&std::fs::read_to_string(path)?)
    }

    /// Builds the keys from an Ed25519 private key in PKCS#8 PEM form.
    pub fn from_pem(pem: &str) -> Result<Keys, AuthError> {
        Keys::from_pkcs8(&pem_unwrap(pem)?)
    }

    /// A new Ed25519 private key in PKCS#8 PEM form (for `enrollgraph key generate`).
    pub fn generate_pem() -> Result<String, AuthError> {
        let rng = ring::rand::SystemRandom::new();
        let doc = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|e| AuthError::Key(e.to_string()))?;
        Ok(pem_wrap(doc.as_ref()))
    }

    /// Writes a private key file readable by its owner only.
    pub fn write_key_file(path: &Path, pem: &str) -> Result<(), AuthError> {
        write_private(path, pem.as_bytes())
    }

    /// Builds the keys from an Ed25519 PKCS#8 document.
    pub fn from_pkcs8(der: &[u8]) -> Result<Keys, AuthError> {
        use ring::signature::KeyPair;
        let pair = ring::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| AuthError::Key(format!("not an Ed25519 PKCS#8 key: {e}")))?;
        let public = pair.public_key().as_ref().to_vec();
        let kid = key_id(&public);
        let seed_key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, der);
        let mut seed = [0u8; 32];
        seed.copy_from_slice(ring::hmac::sign(&seed_key, b"enrollgraph derived secrets").as_ref());
        Ok(Keys {
            cache: cache::TokenCache::default(),
            seed,
            public: public.clone(),
            signing: EncodingKey::from_ed_der(der),
            trusted: vec![Trusted {
                kid: Some(kid.clone()),
                alg: Algorithm::EdDSA,
                key: DecodingKey::from_ed_der(&public),
            }],
            kid,
        })
    }

    /// Trusts a further public key (PEM: RSA for RS256, EC P-256 for ES256, Ed25519 for EdDSA),
    /// e.g. another deployment's signing key.
    pub fn trust_pem(&mut self, pem: &[u8]) -> Result<(), AuthError> {
        let (alg, key) = if let Ok(k) = DecodingKey::from_rsa_pem(pem) {
            (Algorithm::RS256, k)
        } else if let Ok(k) = DecodingKey::from_ec_pem(pem) {
            (Algorithm::ES256, k)
        } else if let Ok(k) = DecodingKey::from_ed_pem(pem) {
            (Algorithm::EdDSA, k)
        } else {
            return Err(AuthError::Key(
                "not a PEM public key of a supported kind (RSA, EC P-256, Ed25519)".into(),
            ));
        };
        self.trusted.push(Trusted {
            kid: None,
            alg,
            key,
        });
        Ok(())
    }

    /// A secret for `purpose` (e.g. MACs on paging tokens), derived from the private key: the
    /// same for every server that signs with this key, across restarts, and unguessable
    /// without it.
    pub fn derive_secret(&self, purpose: &str) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.seed);
        let mut out = [0u8; 32];
        out.copy_from_slice(ring::hmac::sign(&key, purpose.as_bytes()).as_ref());
        out
    }

    /// The JWKS document of the signing key (`{"keys":[{"kty":"OKP","crv":"Ed25519",…}]}`), as
    /// served at the discovery `keys` endpoints.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "use": "sig",
                "alg": "EdDSA",
                "kid": self.kid,
                "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.public)
            }]
        })
    }

    /// The key id written in the header of minted tokens.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` with the server's key.
    pub fn mint(&self, claims: &Claims) -> Result<String, AuthError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &self.signing)
            .map_err(|e| AuthError::Key(e.to_string()))
    }

    /// Verifies a bearer token.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let now = cache::now();
        if let Some(p) = self.cache.get(token, now) {
            return Ok(p);
        }
        let invalid = |m: &str| AuthError::InvalidToken(m.to_owned());
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid("IDX14100: JWT is not well formed."))?;
        let candidates = self
            .trusted
            .iter()
            .filter(|k| k.alg == header.alg)
            .filter(|k| match (&header.kid, &k.kid) {
                (Some(h), Some(k)) => h == k,
                _ => true,
            });
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_audience(AUDIENCES);
        validation.set_required_spec_claims(&["exp", "aud"]);
        let mut last = invalid("Invalid signature: no trusted key matches the token.");
        for k in candidates {
            match jsonwebtoken::decode::<Claims>(token, &k.key, &validation) {
                Ok(data) => {
                    let valid_until = data
                        .claims
                        .exp
                        .saturating_add(i64::try_from(LEEWAY_SECONDS).unwrap_or(0));
                    let p = principal(data.claims)?;
                    self.cache.insert(token, &p, valid_until, now);
                    return Ok(p);
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind;
                    last = match e.kind() {
                        ErrorKind::ExpiredSignature => {
                            invalid("Lifetime validation failed, the token is expired.")
                        }
                        ErrorKind::ImmatureSignature => {
                            invalid("Lifetime validation failed, the token is not yet valid.")
                        }
                        ErrorKind::InvalidAudience => invalid("Invalid audience."),
                        ErrorKind::InvalidSignature => invalid("Invalid signature."),
                        _ => invalid("Access token validation failure."),
                    };
                    if !matches!(e.kind(), ErrorKind::InvalidSignature) {
                        break;
                    }
                }
            }
        }
        Err(last)
    }
}

fn principal(c: Claims) -> Result<Principal, AuthError> {
    let tenant =
        c.tid.as_deref().and_then(TenantId::parse).ok_or_else(|| {
            AuthError::InvalidToken("The token has no valid tenant id (tid).".into())
        })?;
    let (permissions, app_only) = match (c.scp, c.roles) {
        (Some(scp), _) => (scp.split_whitespace().map(str::to_owned).collect(), false),
        (None, Some(roles)) => (roles, true),
        (None, None) => (Vec::new(), false),
    };
    Ok(Principal {
        tenant,
        subject: c.oid.or(c.sub).unwrap_or_default(),
        app_id: c.appid,
        permissions,
        app_only,
    })
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AuthError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AuthError> {
    std::fs::write(path, bytes)?;
    Ok(())
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), AuthError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(AuthError::Key(format!(
            "{} is readable by others (mode {:o}); run: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), AuthError> {
    Ok(())
}

/// Builds the claims of a dev token.
pub fn dev_claims(
    tenant: &TenantId,
    scopes: &[String],
    roles: &[String],
    expires_in: i64,
) -> Claims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let app_only = scopes.is_empty() && !roles.is_empty();
    let scopes = if scopes.is_empty() && roles.is_empty() {
        vec![DEFAULT_PERMISSION.to_owned()]
    } else {
        scopes.to_vec()
    };
    Claims {
        aud: AUDIENCES[0].to_owned(),
        iss: format!("https://sts.windows.net/{tenant}/"),
        iat: now,
        nbf: now,
        exp: now.saturating_add(expires_in),
        tid: Some(tenant.to_string()),
        oid: Some(uuid::Uuid::new_v4().to_string()),
        sub: Some("enrollgraph-dev".into()),
        appid: Some("00000000-0000-0000-0000-000000000e9f".into()),
        scp: (!app_only).then(|| scopes.join(" ")),
        roles: app_only.then(|| roles.to_vec()),
        ver: Some("1.0".into()),
    }
}

/// Builds the claims of an application (client credentials) token with `roles`.
pub fn app_claims(tenant: &TenantId, client_id: &str, roles: &[String], expires_in: i64) -> Claims {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    Claims {
        aud: AUDIENCES[0].to_owned(),
        iss: format!("https://sts.windows.net/{tenant}/"),
        iat: now,
        nbf: now,
        exp: now.saturating_add(expires_in),
        tid: Some(tenant.to_string()),
        oid: Some(client_id.to_owned()),
        sub: Some(client_id.to_owned()),
        appid: Some(client_id.to_owned()),
        scp: None,
        roles: Some(roles.to_vec()),
        ver: Some("1.0".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> TenantId {
        TenantId::parse("11111111-2222-3333-4444-555555555555").unwrap_or_else(|| panic!())
    }

    #[test]
    fn minted_tokens_verify_and_carry_permissions() -> Result<(), AuthError> {
        let dir = std::env::temp_dir().join(format!("eg-auth-{}", uuid::Uuid::new_v4()));
        let keys = Keys::load_or_create(&dir)?;
        let token = keys.mint(&dev_claims(&tenant(), &[], &[], 600))?;
        let p = keys.verify(&token)?;
        assert_eq!(p.tenant, tenant());
        assert!(p.allows(Access::Write) && p.allows(Access::Read));
        // the same key is found again
        let again = Keys::load_or_create(&dir)?;
        assert!(again.verify(&token).is_ok());
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }

    #[test]
    fn expired_and_unsigned_tokens_are_refused() -> Result<(), AuthError> {
        let dir = std::env::temp_dir().join(format!("eg-auth-{}", uuid::Uuid::new_v4()));
        let keys = Keys::load_or_create(&dir)?;
        let expired = keys.mint(&dev_claims(&tenant(), &[], &[], -3600))?;
        assert!(keys.verify(&expired).is_err());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(r#"{"aud":"https://graph.microsoft.com","tid":"11111111-2222-3333-4444-555555555555","exp":9999999999,"scp":"DeviceManagementServiceConfig.ReadWrite.All"}"#)
        );
        assert!(keys.verify(&none).is_err());
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }

    #[test]
    fn read_permissions_do_not_allow_writes() {
        let p = Principal {
            tenant: tenant(),
            subject: String::new(),
            app_id: None,
            permissions: vec!["DeviceManagementConfiguration.Read.All".into()],
            app_only: false,
        };
        assert!(p.allows(Access::Read));
        assert!(!p.allows(Access::Write));
    }
}

/// Client secrets of registered applications: generated at random, stored only as a salted
/// PBKDF2-HMAC-SHA256 hash, checked in constant time.
pub mod secret {
    use std::num::NonZeroU32;

    use base64::Engine;
    use ring::rand::SecureRandom;

    use super::AuthError;

    const ITERATIONS: u32 = 10_000;
    const SCHEME: &str = "pbkdf2-sha256";
    const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn random(n: usize) -> Result<Vec<u8>, AuthError> {
        let mut buf = vec![0u8; n];
        ring::rand::SystemRandom::new()
            .fill(&mut buf)
            .map_err(|_| AuthError::Key("no randomness available".into()))?;
        Ok(buf)
    }

    /// A new client secret (40 URL-safe characters).
    pub fn generate() -> Result<String, AuthError> {
        Ok(B64.encode(random(30)?))
    }

    /// The stored form of `secret`: `pbkdf2-sha256$<iterations>$<salt>$<hash>`.
    pub fn hash(secret: &str) -> Result<String, AuthError> {
        let salt = random(16)?;
        let mut out = [0u8; 32];
        let iterations =
            NonZeroU32::new(ITERATIONS).ok_or_else(|| AuthError::Key("iterations".into()))?;
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            secret.as_bytes(),
            &mut out,
        );
        Ok(format!(
            "{SCHEME}${ITERATIONS}${}${}",
            B64.encode(salt),
            B64.encode(out)
        ))
    }

    /// Whether `secret` matches a stored hash.
    pub fn verify(secret: &str, stored: &str) -> bool {
        let mut parts = stored.split('$');
        let (Some(SCHEME), Some(iter), Some(salt), Some(hash), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return false;
        };
        let (Some(iter), Ok(salt), Ok(hash)) = (
            iter.parse::<u32>().ok().and_then(NonZeroU32::new),
            B64.decode(salt),
            B64.decode(hash),
        ) else {
            return false;
        };
        ring::pbkdf2::verify(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iter,
            &salt,
            secret.as_bytes(),
            &hash,
        )
        .is_ok()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn secrets_verify_only_against_their_own_hash() -> Result<(), super::AuthError> {
            let s = super::generate()?;
            let h = super::hash(&s)?;
            assert!(!h.contains(&s));
            assert!(super::verify(&s, &h));
            assert!(!super::verify("wrong", &h));
            assert!(!super::verify(&s, "garbage"));
            Ok(())
        }
    }
}

/// Client assertions: the signed JWTs an application registered with a certificate sends
/// instead of a secret (`client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`).
pub mod assertion {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    /// Checks that a certificate (PEM) carries an RSA or EC P-256 public key usable here.
    pub fn check_certificate(pem: &str) -> Result<(), String> {
        if DecodingKey::from_rsa_pem(pem.as_bytes()).is_ok()
            || DecodingKey::from_ec_pem(pem.as_bytes()).is_ok()
        {
            Ok(())
        } else {
            Err("not a PEM certificate with an RSA or EC P-256 public key".into())
        }
    }

    /// Verifies `assertion`: signed (RS256, PS256 or ES256) by the key of `certificate`,
    /// issued by and about `client_id` (`iss` = `sub`), for one of `audiences`, not expired.
    pub fn verify(
        assertion: &str,
        certificate: &str,
        client_id: &str,
        audiences: &[String],
    ) -> Result<(), String> {
        let header = jsonwebtoken::decode_header(assertion)
            .map_err(|_| "the client assertion is not a well-formed JWT".to_owned())?;
        let key = match header.alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                DecodingKey::from_rsa_pem(certificate.as_bytes())
            }
            Algorithm::ES256 => DecodingKey::from_ec_pem(certificate.as_bytes()),
            other => {
                return Err(format!(
                    "the client assertion's algorithm {other:?} is not supported"
                ))
            }
        }
        .map_err(|_| {
            "the registered certificate does not match the assertion's algorithm".to_owned()
        })?;
        let mut v = Validation::new(header.alg);
        v.leeway = super::LEEWAY_SECONDS;
        v.set_audience(audiences);
        v.set_issuer(&[client_id]);
        v.sub = Some(client_id.to_owned());
        v.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &v)
            .map(|_| ())
            .map_err(|e| format!("client assertion failed validation: {e}"))
    }
}
