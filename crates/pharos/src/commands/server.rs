//! `pharos server`: a drop-in for `prometheus`. Opens the TSDB, loads the
//! config, runs discovery and one scrape pool per job, serves the
//! management endpoints, reloads on SIGHUP and `POST /-/reload`, and shuts
//! down on SIGINT, SIGTERM and `POST /-/quit`.
//!
//! Shutdown order, and why: discovery first (no new targets), then the
//! scrape loops (without stale markers: the series are not gone, the
//! server is, as Prometheus does), then HTTP, and the TSDB last, so that
//! every appended sample is in the WAL it flushes and closes.

mod flags;
mod http;
mod logging;
mod scrape_options;
mod scrapers;
mod status;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use discovery::{DiscoveryManager, ManagerOptions};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{watch, Mutex};

pub(crate) use flags::ServerArgs;
use flags::{browser_url, duration_ms};
use scrapers::Scrapers;
use status::ServerStatus;

/// The config used without `--config.file`.
const DEFAULT_CONFIG: &str = include_str!("server/default.yml");

/// Runs the server until it is told to stop.
pub(crate) fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    logging::init(args.log_level, args.log_format);
    for f in args.unknown_features() {
        tracing::warn!(feature = f, "unknown option for --enable-feature");
    }
    if args.enable_admin_api {
        tracing::warn!("--web.enable-admin-api: pharos serves no admin API yet");
    }
    if args.enable_remote_write_receiver {
        tracing::warn!(
            "--web.enable-remote-write-receiver: pharos has no remote write receiver yet"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

/// Where the config comes from.
#[derive(Debug, Clone)]
enum ConfigSource {
    File(PathBuf),
    /// The embedded default, its self-scrape aimed at the listen port.
    Embedded {
        port: u16,
    },
}

/// A loaded and fully checked config: what a (re)load applies.
struct Loaded {
    scrape_configs: Vec<config::ScrapeConfig>,
    /// Each job's HTTP client, by job name.
    clients: HashMap<String, scrape::HttpClient>,
}

impl ConfigSource {
    /// Loads and checks everything a reload would apply, so that a config
    /// that fails any check changes nothing.
    fn load(&self) -> anyhow::Result<Loaded> {
        let cfg = match self {
            ConfigSource::File(path) => config::load_file(path, config::LoadOptions::default())?,
            ConfigSource::Embedded { port } => {
                let text = DEFAULT_CONFIG.replace("localhost:9090", &format!("localhost:{port}"));
                config::load_str(&text, "<embedded default config>")?
            }
        };
        let scrape_configs = cfg.all_scrape_configs()?;
        let mut unsupported = cfg.unsupported_discoveries();
        // Jobs from scrape_config_files are not in `cfg.scrape_configs`.
        for s in scrape_configs.iter().skip(cfg.scrape_configs.len()) {
            for key in s.service_discovery.unsupported() {
                unsupported.push(format!(
                    "scrape config with job name {:?}: {key} is not supported by pharos yet",
                    s.job_name
                ));
            }
        }
        let mut clients = HashMap::new();
        for s in &scrape_configs {
            match scrape_options::scrape_client(s) {
                Ok(c) => {
                    clients.insert(s.job_name.clone(), c);
                }
                Err(e) => unsupported.push(e),
            }
        }
        if !unsupported.is_empty() {
            anyhow::bail!("{}", unsupported.join("; "));
        }
        Ok(Loaded {
            scrape_configs,
            clients,
        })
    }

    fn describe(&self) -> String {
        match self {
            ConfigSource::File(p) => p.display().to_string(),
            ConfigSource::Embedded { .. } => "<embedded default config>".to_owned(),
        }
    }
}

/// The parts a reload touches.
struct Components {
    source: ConfigSource,
    discovery: Arc<DiscoveryManager>,
    scrapers: Arc<Mutex<Scrapers>>,
    status: Arc<ServerStatus>,
}

impl Components {
    /// Loads the config and applies it; on any error nothing changes.
    async fn reload(&self) -> Result<(), String> {
        let result = self.try_reload().await.map_err(|e| format!("{e:#}"));
        match &result {
            Ok(()) => {
                tracing::info!(file = %self.source.describe(), "Completed loading of configuration file")
            }
            Err(e) => {
                tracing::error!(file = %self.source.describe(), error = %e, "Error reloading config")
            }
        }
        self.status.record_reload(&result);
        result
    }

    async fn try_reload(&self) -> anyhow::Result<()> {
        let loaded = self.source.load().with_context(|| {
            format!(
                "couldn't load configuration (--config.file={:?})",
                self.source.describe()
            )
        })?;
        let jobs: HashMap<String, config::ServiceDiscoveryConfigs> = loaded
            .scrape_configs
            .iter()
            .map(|s| (s.job_name.clone(), s.service_discovery.clone()))
            .collect();
        self.discovery.apply_config(jobs).await?;
        self.scrapers
            .lock()
            .await
            .apply(&loaded.scrape_configs, &loaded.clients)
            .await;
        Ok(())
    }
}

async fn serve(args: ServerArgs) -> anyhow::Result<()> {
    let source = match &args.config_file {
        Some(p) => ConfigSource::File(p.clone()),
        None => ConfigSource::Embedded {
            port: args.first_port(),
        },
    };
    // Refuse a bad config before touching the data directory, as
    // Prometheus checks its config first.
    source
        .load()
        .with_context(|| format!("error loading config from {:?}", source.describe()))?;

    let external = web::ExternalUrl::compute(
        args.external_url.as_deref(),
        args.listen_address.first().map_or("", String::as_str),
    )?;
    let prefix = web::RoutePrefix::new(args.route_prefix.as_deref().unwrap_or(external.path()));
    let readiness = web::Readiness::new();
    let status = Arc::new(ServerStatus::new(readiness.clone()));
    let (management, mut lifecycle) =
        web::ManagementState::new(readiness.clone(), args.enable_lifecycle);
    let server = web::Server::bind(&args.listen_address, args.web_config_file.as_deref())
        .await
        .context("cannot start the web server")?
        .with_options(web::ServerOptions {
            max_connections: args.max_connections,
            read_timeout: args.read_timeout,
            ..Default::default()
        });
    let bound = server.local_addrs();
    let tls = server.is_tls();
    let router = http::router(status.clone(), management, &prefix);
    let (http_stop_tx, mut http_stop_rx) = watch::channel(false);
    let http_task = tokio::spawn(async move {
        server
            .serve(router, async move {
                let _ = http_stop_rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    if let Some(first) = bound.first() {
        println!(
            "pharos server listening on {} — open it in a browser",
            browser_url(args.external_url.as_deref(), *first, tls, prefix.as_str())
        );
    }

    // Signals that come while the WAL replays are handled once it is done:
    // a stop then closes the TSDB cleanly instead of killing the process.
    let mut sighup = signal(SignalKind::hangup()).context("cannot handle SIGHUP")?;
    let mut sigterm = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut sigint = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let db = open_tsdb(&args).await?;

    let engine_options = promql::engine::EngineOptions {
        lookback_delta_ms: duration_ms(args.lookback_delta),
        max_samples: args.query_max_samples,
        timeout: args.query_timeout,
        max_concurrency: args.query_max_concurrency,
        ..Default::default()
    };
    tracing::debug!(
        ?engine_options,
        page_title = %args.page_title,
        "query engine and UI options (no query API or UI yet)"
    );

    let (discovery, mut updates) = DiscoveryManager::new(ManagerOptions::default());
    let discovery = Arc::new(discovery);
    let scrapers = Arc::new(Mutex::new(Scrapers::new(db.clone(), seed(&args))));
    let components = Components {
        source,
        discovery: discovery.clone(),
        scrapers: scrapers.clone(),
        status: status.clone(),
    };
    // The config was valid a moment ago; failing now (a file changed in
    // between) is still fatal at start.
    if let Err(e) = components.reload().await {
        shutdown_http(http_stop_tx, http_task).await;
        close_tsdb(db).await;
        anyhow::bail!("{e}");
    }
    // Ready as Prometheus is: the TSDB open and the config applied.
    status.set_ready(db.clone());
    tracing::info!("Server is ready to receive web requests.");

    let (sd_stop_tx, mut sd_stop_rx) = watch::channel(false);
    let sd_task = tokio::spawn({
        let discovery = discovery.clone();
        async move {
            discovery
                .run(async move {
                    let _ = sd_stop_rx.wait_for(|stop| *stop).await;
                })
                .await;
        }
    });
    let sync_task = tokio::spawn({
        let scrapers = scrapers.clone();
        async move {
            while let Some(update) = updates.recv().await {
                scrapers.lock().await.sync(update);
            }
        }
    });

    loop {
        tokio::select! {
            _ = sighup.recv() => {
                tracing::info!("Received SIGHUP, reloading the config");
                let _ = components.reload().await;
            }
            _ = sigterm.recv() => { tracing::warn!("Received SIGTERM, exiting gracefully..."); break; }
            _ = sigint.recv() => { tracing::warn!("Received SIGINT, exiting gracefully..."); break; }
            Some(req) = lifecycle.reloads.recv() => req.finish(components.reload().await),
            _ = lifecycle.quit.wait_for(|quit| *quit) => {
                tracing::warn!("Received termination request via web service, exiting gracefully...");
                break;
            }
        }
    }

    readiness.set_stopping();
    let _ = sd_stop_tx.send(true);
    let _ = sd_task.await;
    sync_task.abort();
    let _ = sync_task.await;
    drop(components);
    match Arc::try_unwrap(scrapers) {
        Ok(s) => s.into_inner().shutdown().await,
        Err(_) => tracing::error!("BUG: scrape pools still shared at shutdown"),
    }
    tracing::info!("Scrape manager stopped");
    lifecycle.reloads.close();
    shutdown_http(http_stop_tx, http_task).await;
    close_tsdb(db).await;
    tracing::info!("See you next time!");
    Ok(())
}

async fn open_tsdb(args: &ServerArgs) -> anyhow::Result<Arc<tsdb::db::Db>> {
    let opts = tsdb::db::DbOptions {
        retention_time: args.retention_time_ms(),
        retention_size: args.retention_size.unwrap_or(0),
        min_block_duration: duration_ms(args.min_block_duration),
        max_block_duration: args.max_block_duration.map(duration_ms),
        ..Default::default()
    };
    let path = args.tsdb_path.clone();
    tracing::info!(path = %path.display(), "Starting TSDB ...");
    let (db, report) = tokio::task::spawn_blocking(move || tsdb::db::Db::open(&path, opts))
        .await
        .context("the TSDB open task failed")?
        .with_context(|| format!("cannot open the TSDB at {}", args.tsdb_path.display()))?;
    tracing::info!(blocks = report.blocks, "TSDB started");
    Ok(Arc::new(db))
}

async fn shutdown_http(
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), web::WebError>>,
) {
    let _ = stop.send(true);
    match task.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "HTTP server failed"),
        Err(e) => tracing::error!(error = %e, "HTTP server task failed"),
    }
}

/// Closes the TSDB (flushing the WAL) off the async threads.
async fn close_tsdb(db: Arc<tsdb::db::Db>) {
    let closed = tokio::task::spawn_blocking(move || db.close()).await;
    match closed {
        Ok(Ok(())) => tracing::info!("TSDB closed"),
        Ok(Err(e)) => tracing::error!(error = %e, "cannot close the TSDB"),
        Err(e) => tracing::error!(error = %e, "the TSDB close task failed"),
    }
}

/// Spreads the scrape offsets of servers on different hosts and ports.
fn seed(args: &ServerArgs) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::read_to_string("/etc/hostname")
        .unwrap_or_default()
        .hash(&mut h);
    args.listen_address.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_scrapes_the_listen_port() {
        let loaded = ConfigSource::Embedded { port: 1234 }.load().unwrap();
        let jobs = &loaded.scrape_configs;
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].job_name, "pharos");
        assert_eq!(jobs[0].scrape_interval, std::time::Duration::from_secs(15));
        let targets = &jobs[0].service_discovery.static_configs[0].targets;
        assert_eq!(targets.len(), 1);
        assert!(
            format!("{targets:?}").contains("localhost:1234"),
            "{targets:?}"
        );
    }

    #[test]
    fn unsupported_discovery_in_included_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("prometheus.yml");
        std::fs::write(&main, "scrape_config_files: [jobs/*.yml]\n").unwrap();
        std::fs::create_dir(dir.path().join("jobs")).unwrap();
        std::fs::write(
            dir.path().join("jobs/a.yml"),
            "scrape_configs:\n  - job_name: k\n    ec2_sd_configs: [{region: x}]\n",
        )
        .unwrap();
        let err = ConfigSource::File(main).load().err().expect("refused");
        assert_eq!(
            err.to_string(),
            "scrape config with job name \"k\": ec2_sd_configs is not supported by pharos yet"
        );
    }
}
