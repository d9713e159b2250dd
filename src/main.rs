//! The `pygen` binary: parses the command line, starts logging, catches the OS signals once, and
//! hands over to the library. The exit status of an error is decided by `pygen::report::Fault`:
//! 2 when the user's input is wrong, 1 when the world failed.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use pygen::cli::Cli;
use pygen::config::{Config, Mode};
use pygen::generator;
use pygen::metrics::{self, Metrics};
use pygen::report::{Blame, Fault};
use pygen::shutdown::{Shutdown, ShutdownController, ShutdownTrigger};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// Exit status when the process cannot even start its runtime.
const EXIT_FAILURE: u8 = 1;
/// How long the tasks (and a render still running) may take to stop at shutdown.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

fn main() -> ExitCode {
    tune_malloc();
    // docker-gen mode: `pygen docker-gen ...`, or this binary started as `docker-gen`. Go-style
    // flags, so it is parsed before clap sees the command line.
    let mut args: Vec<String> = std::env::args().collect();
    let argv0 = args.first().cloned().unwrap_or_default();
    if pygen::dockergen::invoked_as_docker_gen(&argv0) {
        return docker_gen_main("docker-gen", args.split_off(1));
    }
    if args.get(1).map(String::as_str) == Some("docker-gen") {
        return docker_gen_main("pygen docker-gen", args.split_off(2));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with status 0; errors to stderr with status 2. A
            // flag given with --config is said in the config file's terms.
            match pygen::cli::config_conflict_hint(&err) {
                Some(hint) => eprintln!("pygen: {hint}"),
                None => {
                    let _ = err.print();
                }
            }
            return ExitCode::from(err.exit_code().clamp(0, 255) as u8);
        }
    };
    // Validated before logging starts: a config file may turn debug logging on.
    let mode = match Mode::from_cli(&cli) {
        Ok(mode) => mode,
        Err(err) => {
            for problem in err.problems() {
                eprintln!("pygen: {}", pygen::report::describe(problem));
            }
            return ExitCode::from(err.fault().exit_status());
        }
    };
    init_logging(mode.debug());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("pygen: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = runtime.block_on(run(mode));
    // Renders run on the blocking pool and cannot be interrupted: one stuck in a template (a
    // pipe read by `read_config`, a hung network file system) must not keep pygen alive after
    // SIGTERM. A render that finishes in time still lands its atomic write.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { fault, error }) => {
            eprintln!("pygen: {}", pygen::report::describe(error.as_ref()));
            ExitCode::from(fault.exit_status())
        }
    }
}

/// Puts glibc's allocator in one arena. pygen is a daemon that idles almost all the time with
/// one runtime thread and a render or two on the blocking pool; by default each thread that
/// allocates gets its own arena, whose freed pages stay resident (about 150 KiB of a watching
/// pygen's idle RSS at 300 containers). Renders are short and rarely overlap, so sharing one
/// arena costs them nothing measurable. `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` in the
/// environment win: glibc has read them already and this leaves them alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some()
        || std::env::var_os("GLIBC_TUNABLES").is_some()
    {
        return;
    }
    // SAFETY: mallopt only sets an allocator parameter, and no other thread runs yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Other C libraries keep their defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

/// docker-gen mode from parse to exit: usage errors exit 2, runtime failures 1.
fn docker_gen_main(program: &str, args: Vec<String>) -> ExitCode {
    use pygen::dockergen::{self, Request};
    let settings = match dockergen::prepare(program, args) {
        Ok(Request::Print(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Request::Run(settings)) => settings,
        Err(err) => {
            eprintln!("{program}: {}", pygen::report::describe(&err));
            if matches!(err, dockergen::Error::Flags(_)) {
                eprint!("{}", dockergen::flags::usage(program));
            }
            return ExitCode::from(Fault::Input.exit_status());
        }
    };
    for (key, value) in &settings.env {
        // SAFETY: no other thread runs yet (the runtime is built below), so nothing reads the
        // environment while it changes.
        unsafe { std::env::set_var(key, value) };
    }
    init_logging(false);
    for warning in &settings.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("{program}: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = runtime.block_on(run_docker_gen(settings));
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure { fault, error }) => {
            eprintln!("{program}: {}", pygen::report::describe(error.as_ref()));
            ExitCode::from(fault.exit_status())
        }
    }
}

/// docker-gen mode's run: one pass, or the watch loop until SIGTERM/SIGINT.
async fn run_docker_gen(settings: pygen::dockergen::Settings) -> Result<(), Failure> {
    tracing::info!("Starting {}", pygen::dockergen::version_line());
    if !settings.is_long_running() {
        return Ok(pygen::dockergen::one_shot(&settings).await?);
    }
    let metrics = Arc::new(Metrics::new());
    let controller = ShutdownController::new();
    let fail = |e: anyhow::Error| pygen::dockergen::Error::Daemon {
        what: "start-up".into(),
        reason: pygen::report::describe(e.as_ref()),
    };
    let started = async {
        start_metrics(settings.metrics, &metrics, controller.subscribe()).await?;
        catch_signals(controller.trigger())
    }
    .await;
    let hangup = match started {
        Ok(hangup) => hangup,
        Err(failure) => return Err(fail(failure.error).into()),
    };
    let result =
        generator::docker_gen::watch(settings, metrics, controller.subscribe(), hangup).await;
    finish(controller).await;
    Ok(result?)
}

/// An error that ends the process, with who is at fault (which decides the exit status).
struct Failure {
    /// The user's input or the world.
    fault: Fault,
    /// What went wrong.
    error: anyhow::Error,
}

impl Failure {
    /// A failure of the world (exit status 1) outside the library's error types.
    fn world(error: anyhow::Error) -> Failure {
        Failure {
            fault: Fault::World,
            error,
        }
    }
}

impl<E> From<E> for Failure
where
    E: Blame + std::error::Error + Send + Sync + 'static,
{
    fn from(err: E) -> Failure {
        Failure {
            fault: err.fault(),
            error: err.into(),
        }
    }
}

/// Logs to stderr; `--debug` shows debug lines too.
fn init_logging(debug: bool) {
    // A plain level filter: the crates below log through `log`, which is not forwarded, so only
    // pygen's own lines show. (An env-filter would pull a regex engine into the binary.)
    let level = if debug {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

/// Dispatches the subcommands.
async fn run(mode: Mode) -> Result<(), Failure> {
    match mode {
        Mode::Run(config) => run_main(config).await,
        Mode::Worker(config) => run_worker(config).await,
        Mode::State(state) => {
            let dump = pygen::offline::dump_state(state.docker_address.as_deref()).await?;
            if state.redact_env {
                println!("{}", pygen::model::redact_env(&dump));
            } else {
                println!("{dump}");
            }
            Ok(())
        }
        Mode::Render(render) if render.dialect == pygen::cli::RenderDialect::Go => {
            pygen::dockergen::offline::render_state(
                &render.state,
                std::path::Path::new(&render.template),
                render.target.as_deref(),
            )
            .map_err(Failure::from)
        }
        Mode::Render(render) => {
            let options = pygen::template::LoadOptions {
                no_ssl_check: render.no_ssl_check,
                timeout: render.template_timeout,
            };
            pygen::offline::render_offline(
                &render.state,
                &render.template,
                &options,
                render.target.as_ref(),
            )
            .await?;
            Ok(())
        }
        Mode::Check(path) => {
            let report = pygen::check::check(&path).await;
            for problem in &report.problems {
                println!("{problem}");
            }
            if report.problems.is_empty() {
                println!("{} templates OK", report.templates);
                return Ok(());
            }
            // A failed check is not a usage error: status 1, as for a test that fails.
            Err(Failure::world(anyhow::anyhow!(
                "{} problem(s) in {}",
                report.problems.len(),
                path.display()
            )))
        }
        Mode::Healthcheck(check) => healthcheck(&check.url, check.timeout)
            .await
            .map_err(Failure::world),
        Mode::Completions(shell) => {
            match pygen::cli::write_completions(shell, &mut std::io::stdout()) {
                // The reader stopped early (`| head`): nothing left to do.
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                result => result
                    .context("writing the completion script")
                    .map_err(Failure::world),
            }
        }
    }
}

/// `pygen healthcheck`: succeeds when the URL answers with a 2xx status. The image has no curl,
/// so its HEALTHCHECK runs this.
async fn healthcheck(url: &str, timeout: std::time::Duration) -> anyhow::Result<()> {
    pygen::tls::use_ring();
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .context("building the HTTP client")?;
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("healthcheck: {url}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        anyhow::bail!("healthcheck: {url} answered {status}")
    }
}

/// Starts the Prometheus endpoint on `addr` (if any) until `shutdown`. The endpoint stopping
/// on its own is logged; generation does not depend on it.
async fn start_metrics(
    addr: Option<std::net::SocketAddr>,
    metrics: &Arc<Metrics>,
    shutdown: Shutdown,
) -> Result<(), Failure> {
    let Some(addr) = addr else {
        return Ok(());
    };
    let listener = metrics::bind(addr).await?;
    let metrics = Arc::clone(metrics);
    tokio::spawn(async move {
        if let Err(err) = metrics::serve(listener, metrics, shutdown.wait()).await {
            tracing::error!("{}", pygen::report::describe(&err));
        }
    });
    Ok(())
}

/// Catches the OS signals, once for the whole process: SIGTERM and SIGINT trigger the shutdown,
/// SIGHUP is forwarded on the returned channel.
fn catch_signals(trigger: ShutdownTrigger) -> Result<mpsc::UnboundedReceiver<()>, Failure> {
    let (hangup_tx, hangup_rx) = mpsc::unbounded_channel();
    let mut hangup = signal(SignalKind::hangup())
        .context("installing the SIGHUP handler")
        .map_err(Failure::world)?;
    let mut terminate = signal(SignalKind::terminate())
        .context("installing the SIGTERM handler")
        .map_err(Failure::world)?;
    let mut interrupt = signal(SignalKind::interrupt())
        .context("installing the SIGINT handler")
        .map_err(Failure::world)?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            if hangup_tx.send(()).is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received"),
            _ = interrupt.recv() => tracing::info!("SIGINT received"),
        }
        trigger.fire();
    });
    Ok(hangup_rx)
}

/// `pygen worker`: the Swarm worker until SIGTERM or SIGINT.
async fn run_worker(config: pygen::config::WorkerConfig) -> Result<(), Failure> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting pygen worker");
    tracing::debug!(?config, "configuration");
    let metrics = Arc::new(Metrics::new());
    let controller = ShutdownController::new();
    start_metrics(config.metrics, &metrics, controller.subscribe()).await?;
    let hangup = catch_signals(controller.trigger())?;
    let result = pygen::swarm::worker::run(config, metrics, controller.subscribe(), hangup).await;
    finish(controller).await;
    Ok(result?)
}

/// The main command: one-shot or watch mode.
async fn run_main(config: Config) -> Result<(), Failure> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        templates = config.templates.len(),
        one_shot = config.one_shot,
        "starting pygen"
    );
    tracing::debug!(?config, "configuration");
    // The config file's [docker] TLS settings, over DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for
    // every connection of this process.
    pygen::docker::connect::install_tls_settings(config.docker_tls.clone());
    if config.one_shot {
        generator::one_shot(&config).await?;
        return Ok(());
    }
    let metrics = Arc::new(Metrics::new());
    let controller = ShutdownController::new();
    start_metrics(config.metrics, &metrics, controller.subscribe()).await?;
    let mut hangup = catch_signals(controller.trigger())?;
    let (reload_tx, reload_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the template");
            if reload_tx.send(()).is_err() {
                break;
            }
        }
    });
    let result = generator::watch(config, metrics, controller.subscribe(), reload_rx).await;
    finish(controller).await;
    Ok(result?)
}

/// Stops every task (the run ended, by a signal or on its own) and waits a bounded time for
/// them to wind down.
async fn finish(controller: ShutdownController) {
    if !controller.finish(SHUTDOWN_GRACE).await {
        tracing::warn!(
            "some tasks did not stop within {} s; exiting anyway",
            SHUTDOWN_GRACE.as_secs()
        );
    }
}
