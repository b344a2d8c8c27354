//! The `enrollgraph` command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use enrollgraph::{build_state, default_tenant, Settings};

/// A Microsoft Graph server for Intune device enrollment configurations and their assignments.
#[derive(Parser)]
#[command(name = "enrollgraph", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Print a signed bearer token for this server (uses the data dir's key).
    Token(TokenArgs),
    /// Apply the database migrations and exit.
    Migrate(MigrateArgs),
    /// Write a new token signing key, to give to every node of a deployment.
    Keygen(KeygenArgs),
    /// Print the local CA certificate (PEM) that clients trust for --tls and --proxy.
    Ca(CaArgs),
    /// Register, list or remove applications of the token endpoint (client credentials).
    #[command(subcommand)]
    App(AppCommand),
    /// Write one tenant or all, as JSON Lines.
    Export(ExportArgs),
    /// Read JSON Lines written by `export` into the database.
    Import(ImportArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum FidelityArg {
    /// Behave like the real service (PATCH answers 204).
    Service,
    /// Behave like the documentation (PATCH answers 200 with the entity).
    Docs,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ENROLLGRAPH_LISTEN", default_value = "127.0.0.1:8940")]
    listen: SocketAddr,
    /// Directory of the signing key, the tenant id and the SQLite database.
    #[arg(
        long,
        env = "ENROLLGRAPH_DATA_DIR",
        default_value = "./enrollgraph-data"
    )]
    data_dir: PathBuf,
    /// Database URL (sqlite://PATH); by default enrollgraph.db in the data dir.
    #[arg(long, env = "ENROLLGRAPH_DATABASE_URL")]
    database: Option<String>,
    /// Base URL written into absolute URLs (e.g. https://graph.example.com behind a TLS
    /// proxy); by default http://, or https:// under --tls and --proxy, and the Host header.
    #[arg(long, env = "ENROLLGRAPH_PUBLIC_URL")]
    public_url: Option<String>,
    /// PEM public key whose tokens are trusted too (repeatable).
    #[arg(
        long = "trust-key",
        env = "ENROLLGRAPH_TRUST_KEYS",
        value_delimiter = ','
    )]
    trust_keys: Vec<PathBuf>,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "ENROLLGRAPH_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// Where the real service and its docs differ, follow which.
    #[arg(
        long,
        env = "ENROLLGRAPH_FIDELITY",
        value_enum,
        default_value = "service"
    )]
    fidelity: FidelityArg,
    /// Log format.
    #[arg(
        long,
        env = "ENROLLGRAPH_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    key: KeyArgs,
    /// Items per page of a collection when the request does not say ($top, odata.maxpagesize).
    #[arg(long, env = "ENROLLGRAPH_PAGE_SIZE", default_value_t = 1000)]
    page_size: usize,
    /// The largest page a request may ask for ($top above it is a 400).
    #[arg(long, env = "ENROLLGRAPH_MAX_PAGE_SIZE", default_value_t = 1000)]
    max_page_size: usize,
    /// Refuse requests over Intune's published limits (per tenant and per app, per 20 s) with
    /// 429 TooManyRequests and Retry-After, to test clients' retry logic.
    #[arg(long, env = "ENROLLGRAPH_THROTTLE")]
    throttle: bool,
    /// Responses of configuration reads kept until the next commit (SQLite only; 0 keeps none).
    #[arg(long, env = "ENROLLGRAPH_READ_CACHE", default_value_t = 4096)]
    read_cache: usize,
    /// Serve HTTPS with a certificate of the data dir's local CA (names graph.microsoft.com,
    /// login.microsoftonline.com, localhost, 127.0.0.1); `enrollgraph ca` prints the CA.
    #[arg(long, env = "ENROLLGRAPH_TLS", conflicts_with = "proxy")]
    tls: bool,
    /// Also act as an HTTP proxy for tools that cannot change their Graph URL: CONNECT to
    /// graph.microsoft.com:443 and login.microsoftonline.com:443 is served by enrollgraph
    /// itself over TLS (local CA); every other destination is refused with 403.
    #[arg(long, env = "ENROLLGRAPH_PROXY")]
    proxy: bool,
}

#[derive(clap::Args)]
struct KeyArgs {
    /// Token signing key (Ed25519 PKCS#8 PEM file, mode 0600); by default signing-key.pem in
    /// the data dir, created on first start. Give every node the same key.
    #[arg(long, env = "ENROLLGRAPH_SIGNING_KEY_FILE")]
    signing_key_file: Option<PathBuf>,
    /// The signing key's PEM text itself (takes precedence over the file).
    #[arg(long, env = "ENROLLGRAPH_SIGNING_KEY", hide_env_values = true)]
    signing_key: Option<String>,
}

impl KeyArgs {
    fn source(&self) -> enrollgraph::SigningKey {
        match (&self.signing_key, &self.signing_key_file) {
            (Some(pem), _) => enrollgraph::SigningKey::Pem(pem.clone()),
            (None, Some(path)) => enrollgraph::SigningKey::File(path.clone()),
            (None, None) => enrollgraph::SigningKey::DataDir,
        }
    }
}

#[derive(clap::Args)]
struct DbArgs {
    /// Most database connections held open (PostgreSQL).
    #[arg(long, env = "ENROLLGRAPH_DB_POOL_SIZE", default_value_t = 16)]
    db_pool_size: usize,
    /// Longest wait to open a database connection, in milliseconds.
    #[arg(
        long,
        env = "ENROLLGRAPH_DB_CONNECT_TIMEOUT_MS",
        default_value_t = 5000
    )]
    db_connect_timeout_ms: u64,
    /// Longest wait for a free pooled connection, in milliseconds.
    #[arg(
        long,
        env = "ENROLLGRAPH_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 5000
    )]
    db_acquire_timeout_ms: u64,
    /// Longest wait for one database statement, in milliseconds.
    #[arg(long, env = "ENROLLGRAPH_DB_QUERY_TIMEOUT_MS", default_value_t = 10000)]
    db_query_timeout_ms: u64,
}

impl DbArgs {
    fn options(&self) -> store::Options {
        use std::time::Duration;
        store::Options {
            pool_size: self.db_pool_size.max(1),
            connect_timeout: Duration::from_millis(self.db_connect_timeout_ms),
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            query_timeout: Duration::from_millis(self.db_query_timeout_ms),
        }
    }
}

#[derive(clap::Args)]
struct MigrateArgs {
    /// Data dir (its SQLite file is the default database).
    #[arg(
        long,
        env = "ENROLLGRAPH_DATA_DIR",
        default_value = "./enrollgraph-data"
    )]
    data_dir: PathBuf,
    /// Database URL (sqlite://PATH or postgres://…); by default enrollgraph.db in the data dir.
    #[arg(long, env = "ENROLLGRAPH_DATABASE_URL")]
    database: Option<String>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::Args)]
struct TokenArgs {
    /// Data dir whose signing key signs the token.
    #[arg(
        long,
        env = "ENROLLGRAPH_DATA_DIR",
        default_value = "./enrollgraph-data"
    )]
    data_dir: PathBuf,
    /// Tenant id (tid); by default the one kept in the data dir.
    #[arg(long, env = "ENROLLGRAPH_TENANT")]
    tenant: Option<String>,
    /// Delegated permission (scp); repeatable.
    #[arg(
        long = "scope",
        env = "ENROLLGRAPH_TOKEN_SCOPES",
        value_delimiter = ','
    )]
    scopes: Vec<String>,
    /// Application permission (roles); repeatable. Gives an app-only token.
    #[arg(long = "role", env = "ENROLLGRAPH_TOKEN_ROLES", value_delimiter = ',')]
    roles: Vec<String>,
    /// Lifetime in seconds (a negative value, e.g. --expires-in=-60, makes an expired token).
    #[arg(
        long,
        env = "ENROLLGRAPH_TOKEN_EXPIRES_IN",
        default_value_t = 3600,
        allow_negative_numbers = true
    )]
    expires_in: i64,
    #[command(flatten)]
    key: KeyArgs,
}

#[derive(clap::Args)]
struct ExportArgs {
    #[command(flatten)]
    target: MigrateArgs,
    /// Only this tenant; by default every tenant.
    #[arg(long)]
    tenant: Option<String>,
    /// Output file; `-` (the default) is standard output.
    #[arg(long, default_value = "-")]
    out: PathBuf,
}

#[derive(clap::Args)]
struct ImportArgs {
    #[command(flatten)]
    target: MigrateArgs,
    /// Input file of JSON Lines from `export`; `-` (the default) is standard input.
    #[arg(long = "in", default_value = "-")]
    input: PathBuf,
    /// Overwrite tenants that already exist in the target.
    #[arg(long)]
    replace: bool,
}

#[derive(Subcommand)]
enum AppCommand {
    /// Register an application and print its client id and secret (shown only once).
    Add(AppAddArgs),
    /// List the tenant's applications.
    List(AppTenantArgs),
    /// Remove an application.
    Remove(AppRemoveArgs),
}

#[derive(clap::Args)]
struct AppTenantArgs {
    #[command(flatten)]
    target: MigrateArgs,
    /// Tenant id; by default the one kept in the data dir.
    #[arg(long, env = "ENROLLGRAPH_TENANT")]
    tenant: Option<String>,
}

#[derive(clap::Args)]
struct AppAddArgs {
    #[command(flatten)]
    on: AppTenantArgs,
    /// Display name.
    #[arg(long, default_value = "enrollgraph client")]
    name: String,
    /// Application permission granted (as `roles` in its tokens); repeatable. Default:
    /// DeviceManagementServiceConfig.ReadWrite.All.
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Client id to use (a GUID); by default a new one.
    #[arg(long)]
    client_id: Option<String>,
    /// Client secret to use; by default a new random one, unless --certificate is given.
    #[arg(long, env = "ENROLLGRAPH_APP_SECRET", hide_env_values = true)]
    secret: Option<String>,
    /// A certificate (PEM, RSA or EC P-256) whose private key signs the application's client
    /// assertions (certificate credentials, as MSAL's `CertificateCredential` sends them).
    #[arg(long)]
    certificate: Option<PathBuf>,
}

#[derive(clap::Args)]
struct AppRemoveArgs {
    #[command(flatten)]
    on: AppTenantArgs,
    /// The application's client id.
    #[arg(long)]
    client_id: String,
}

#[derive(clap::Args)]
struct CaArgs {
    /// Data dir holding the CA (created on first use).
    #[arg(
        long,
        env = "ENROLLGRAPH_DATA_DIR",
        default_value = "./enrollgraph-data"
    )]
    data_dir: PathBuf,
}

#[derive(clap::Args)]
struct KeygenArgs {
    /// Where to write the new key (mode 0600); it must not exist yet.
    #[arg(long)]
    out: PathBuf,
}

/// Prints a line on standard output, ignoring a closed stdout: a server must not stop because
/// whoever started it stopped reading.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Token(args) => token(args),
        Command::Migrate(args) => migrate(args),
        Command::Keygen(args) => keygen(args),
        Command::Ca(args) => ca(args),
        Command::App(cmd) => app(cmd),
        Command::Export(args) => export(args),
        Command::Import(args) => import(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("enrollgraph: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error. Lines are formatted on the thread that logs and written by a
/// background thread, many at a time when they come quickly, so that a request never waits
/// for a write; none is dropped (a full queue makes loggers wait). Colours only on a terminal.
/// Keep the guard until exit: dropping it writes what is queued.
fn init_logs(format: LogFormat) -> tracing_appender::non_blocking::WorkerGuard {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("ENROLLGRAPH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("enrollgraph-logs")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    guard
}

fn serve(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let _logs = init_logs(args.log_format);
    let settings = Settings {
        data_dir: args.data_dir,
        database_url: args.database,
        public_url: args.public_url,
        trusted_keys: args.trust_keys,
        max_body_bytes: args.max_body_bytes,
        fidelity: match args.fidelity {
            FidelityArg::Service => api::Fidelity::Service,
            FidelityArg::Docs => api::Fidelity::Docs,
        },
        database: args.db.options(),
        signing_key: args.key.source(),
        paging: api::QuerySettings {
            default_page_size: args.page_size,
            max_page_size: args.max_page_size,
        }
        .normalized(),
        throttle: args.throttle,
        read_cache: args.read_cache,
    };
    // A server owns its SQLite database while it runs (what it keeps between its commits
    // relies on it): a second server, or an import, is refused.
    let database_url = settings.database_url();
    let _serving = store::sqlite_path(&database_url)
        .map(store::sqlite::ServeLock::acquire)
        .transpose()?;
    let state = build_state(&settings)?;
    let tenant = default_tenant(&settings.data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await?;
        let addr = listener.local_addr()?;
        tracing::info!(
            listen = %addr,
            data_dir = %settings.data_dir.display(),
            database = %store::redact(&settings.database_url()),
            "enrollgraph is serving"
        );
        let scheme = if args.tls { "https" } else { "http" };
        say!("enrollgraph listening on {scheme}://{addr} (beta: {scheme}://{addr}/beta, v1.0: {scheme}://{addr}/v1.0)");
        say!("data dir: {}", settings.data_dir.display());
        say!(
            "get a token: enrollgraph token --data-dir {} [--tenant {tenant}]",
            settings.data_dir.display()
        );
        let mode = if args.tls || args.proxy {
            let ca = std::sync::Arc::new(enrollgraph::local_ca(&settings.data_dir)?);
            if args.tls {
                enrollgraph::Edge::Tls(ca)
            } else {
                enrollgraph::Edge::Proxy(ca)
            }
        } else {
            enrollgraph::Edge::Plain
        };
        if args.proxy {
            say!("proxy mode: set HTTPS_PROXY=http://{addr} and trust the CA printed by `enrollgraph ca`");
        }
        enrollgraph::launch_with(state, listener, shutdown_signal(), mode).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn open_store(
    args: &MigrateArgs,
) -> Result<(std::sync::Arc<dyn domain::Store>, String), Box<dyn std::error::Error>> {
    let mut settings = Settings::new(&args.data_dir);
    settings.database_url = args.database.clone();
    settings.database = args.db.options();
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    Ok((store::open(&url, &settings.database)?, url))
}

fn migrate(args: MigrateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (_, url) = open_store(&args)?;
    println!("migrated {}", store::redact(&url));
    Ok(())
}

fn export(args: ExportArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (store, _) = open_store(&args.target)?;
    let tenant = match &args.tenant {
        Some(t) => Some(domain::TenantId::parse(t).ok_or("--tenant must be a GUID")?),
        None => None,
    };
    let mut out: Box<dyn std::io::Write> = if args.out.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(std::fs::File::create(&args.out)?))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let counts = runtime.block_on(store::transfer::export(
        store.as_ref(),
        tenant.as_ref(),
        &mut out,
    ))?;
    eprintln!(
        "exported {} tenants, {} configurations, {} assignments",
        counts.tenants, counts.configurations, counts.assignments
    );
    Ok(())
}

fn import(args: ImportArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (store, url) = open_store(&args.target)?;
    // Not under a running server of the same SQLite database.
    let _owned = store::sqlite_path(&url)
        .map(store::sqlite::ServeLock::acquire)
        .transpose()?;
    let mut input: Box<dyn std::io::BufRead> = if args.input.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin().lock()))
    } else {
        Box::new(std::io::BufReader::new(std::fs::File::open(&args.input)?))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let counts = runtime.block_on(store::transfer::import(
        store.as_ref(),
        &mut input,
        args.replace,
    ))?;
    eprintln!(
        "imported {} tenants, {} configurations, {} assignments",
        counts.tenants, counts.configurations, counts.assignments
    );
    Ok(())
}

fn app_tenant(args: &AppTenantArgs) -> Result<domain::TenantId, Box<dyn std::error::Error>> {
    Ok(match &args.tenant {
        Some(t) => domain::TenantId::parse(t).ok_or("--tenant must be a GUID")?,
        None => default_tenant(&args.target.data_dir)?,
    })
}

fn app(cmd: AppCommand) -> Result<(), Box<dyn std::error::Error>> {
    let on = match &cmd {
        AppCommand::Add(a) => &a.on,
        AppCommand::List(a) => a,
        AppCommand::Remove(a) => &a.on,
    };
    let tenant = app_tenant(on)?;
    let (store, _) = open_store(&on.target)?;
    let service = domain::Service::new(store, std::sync::Arc::new(edm::Models::load()?));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cmd {
            AppCommand::Add(a) => {
                let client_id = match a.client_id {
                    Some(c) => domain::TenantId::parse(&c)
                        .ok_or("--client-id must be a GUID")?
                        .to_string(),
                    None => domain::record::new_guid(),
                };
                let certificate = match &a.certificate {
                    Some(path) => {
                        let pem = std::fs::read_to_string(path)?;
                        auth::assertion::check_certificate(&pem)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        Some(pem)
                    }
                    None => None,
                };
                let secret = match (a.secret, &certificate) {
                    (Some(s), _) => Some(s),
                    (None, None) => Some(auth::secret::generate()?),
                    (None, Some(_)) => None,
                };
                let roles = if a.roles.is_empty() {
                    vec![auth::DEFAULT_PERMISSION.to_owned()]
                } else {
                    a.roles
                };
                let app = domain::App {
                    client_id: client_id.clone(),
                    display_name: a.name,
                    secret_hash: secret.as_deref().map(auth::secret::hash).transpose()?,
                    certificate: certificate.clone(),
                    roles: roles.clone(),
                    created: domain::record::now_timestamp(),
                };
                service.register_app(&tenant, app).await?;
                println!(
                    "{}",
                    serde_json::json!({
                        "tenantId": tenant.to_string(),
                        "clientId": client_id,
                        "clientSecret": secret,
                        "certificate": certificate.is_some(),
                        "roles": roles
                    })
                );
            }
            AppCommand::List(_) => {
                for app in service.list_apps(&tenant).await? {
                    println!(
                        "{}",
                        serde_json::json!({
                            "tenantId": tenant.to_string(),
                            "clientId": app.client_id,
                            "displayName": app.display_name,
                            "roles": app.roles,
                            "created": app.created
                        })
                    );
                }
            }
            AppCommand::Remove(a) => {
                if !service.remove_app(&tenant, &a.client_id).await? {
                    return Err(format!("no application {} in tenant {tenant}", a.client_id).into());
                }
                println!("removed {}", a.client_id);
            }
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

fn ca(args: CaArgs) -> Result<(), Box<dyn std::error::Error>> {
    let ca = enrollgraph::local_ca(&args.data_dir)?;
    print!("{}", ca.ca_pem());
    Ok(())
}

fn keygen(args: KeygenArgs) -> Result<(), Box<dyn std::error::Error>> {
    auth::Keys::write_key_file(&args.out, &auth::Keys::generate_pem()?)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

fn token(args: TokenArgs) -> Result<(), Box<dyn std::error::Error>> {
    let keys = args.key.source().load(&args.data_dir)?;
    let tenant = match args.tenant {
        Some(t) => domain::TenantId::parse(&t).ok_or("--tenant must be a GUID")?,
        None => default_tenant(&args.data_dir)?,
    };
    let claims = auth::dev_claims(&tenant, &args.scopes, &args.roles, args.expires_in);
    println!("{}", keys.mint(&claims)?);
    Ok(())
}
