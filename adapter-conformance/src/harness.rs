//! Where each backend's server comes from: a URL from the environment, else a container
//! when a Docker engine answers, else a loud skip (or a failure when
//! `AUTH_CONFORMANCE_REQUIRE` names the backend).

use std::any::Any;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;

use crate::fixture::{Backend, BoxError};

/// The variable that turns a skipped backend into a failure: `all`, or a comma-separated
/// list of backend names (`postgres,mariadb,redis`). CI sets it.
pub const REQUIRE_VAR: &str = "AUTH_CONFORMANCE_REQUIRE";

/// Opens a backend from the server URL it was given (`None` for embedded backends).
pub type OpenFn = fn(Option<String>) -> BoxFuture<'static, Result<Arc<dyn Backend>, BoxError>>;

/// Starts a container for a backend and returns its URL and the guard that keeps it
/// running (the container is removed when the guard drops).
pub type StartFn = fn() -> BoxFuture<'static, Result<RunningContainer, BoxError>>;

/// A backend the suite knows: its name, where its server comes from, how to open it.
#[derive(Clone)]
pub struct BackendSpec {
    /// Short name used in test names, reports and `AUTH_CONFORMANCE_REQUIRE`.
    pub name: &'static str,
    /// Where the server comes from.
    pub source: Source,
    /// Opens the backend on the URL the harness found.
    pub open: OpenFn,
}

impl fmt::Debug for BackendSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendSpec")
            .field("name", &self.name)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Where a backend's server comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Runs in process (memory, SQLite): always available.
    Embedded,
    /// A server: a URL from `env_var`, else the container, else skipped.
    Server {
        /// The environment variable holding the server URL.
        env_var: &'static str,
        /// An example value for that variable, shown in the skip line.
        example_url: &'static str,
        /// How to start one with testcontainers, where a Docker engine answers.
        container: Option<ContainerPlan>,
    },
}

/// A testcontainers image for a backend.
#[derive(Clone)]
pub struct ContainerPlan {
    /// Image name, e.g. `postgres`.
    pub image: &'static str,
    /// Image tag, e.g. `16-alpine`.
    pub tag: &'static str,
    /// Starts it.
    pub start: StartFn,
}

impl ContainerPlan {
    /// `image:tag`, as `docker` names it.
    ///
    /// ```
    /// # use adapter_conformance::harness::ContainerPlan;
    /// # let plan = ContainerPlan { image: "redis", tag: "7", start: || unreachable!() };
    /// assert_eq!(plan.image_ref(), "redis:7");
    /// ```
    pub fn image_ref(&self) -> String {
        format!("{}:{}", self.image, self.tag)
    }
}

impl fmt::Debug for ContainerPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContainerPlan({}:{})", self.image, self.tag)
    }
}

/// A started container: its URL and whatever keeps it alive.
pub struct RunningContainer {
    /// The URL of the server inside, as seen from the host.
    pub url: String,
    /// Dropping this removes the container (inside a tokio runtime).
    pub guard: Box<dyn Any + Send + Sync>,
}

impl fmt::Debug for RunningContainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningContainer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Starts `image` at `tag` with testcontainers and returns the URL `url` builds from the
/// host and the host port mapped to `port`; the container lives as long as the guard.
/// Every backend's [`ContainerPlan::start`] is this one call.
pub async fn start_container<I>(
    image: I,
    tag: &str,
    port: u16,
    url: fn(&str, u16) -> String,
) -> Result<RunningContainer, BoxError>
where
    I: testcontainers::Image + 'static,
{
    use testcontainers::runners::AsyncRunner;
    use testcontainers::ImageExt;

    let container = image.with_tag(tag).start().await?;
    let host = container.get_host().await?.to_string();
    let host_port = container.get_host_port_ipv4(port).await?;
    Ok(RunningContainer {
        url: url(&host, host_port),
        guard: Box::new(container),
    })
}

/// What the harness found for a backend.
#[derive(Clone)]
pub enum Resolved {
    /// Ready to hand out fixtures.
    Ready(Arc<dyn Backend>),
    /// Not available here; the text says which backend, why, and how to enable it.
    Skipped(String),
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ready(backend) => f.debug_tuple("Ready").field(backend).finish(),
            Self::Skipped(why) => f.debug_tuple("Skipped").field(why).finish(),
        }
    }
}

/// Keeps a container alive as long as the backend that uses it.
struct ContainerBackend {
    inner: Arc<dyn Backend>,
    _container: RunningContainer,
}

impl fmt::Debug for ContainerBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

#[async_trait::async_trait]
impl Backend for ContainerBackend {
    async fn fixture(&self) -> Result<crate::Fixture, BoxError> {
        self.inner.fixture().await
    }
}

/// Finds a server for the backend, in the order of CONFORMANCE.md.
pub async fn resolve(spec: &BackendSpec) -> Result<Resolved, BoxError> {
    match &spec.source {
        Source::Embedded => Ok(Resolved::Ready((spec.open)(None).await?)),
        Source::Server {
            env_var, container, ..
        } => {
            if let Some(url) = env_url(env_var) {
                return Ok(Resolved::Ready((spec.open)(Some(url)).await?));
            }
            let docker = docker_engine().err();
            match (container, docker) {
                (Some(plan), None) => {
                    let running = (plan.start)().await?;
                    let inner = (spec.open)(Some(running.url.clone())).await?;
                    Ok(Resolved::Ready(Arc::new(ContainerBackend {
                        inner,
                        _container: running,
                    })))
                }
                (plan, docker_why) => Ok(Resolved::Skipped(skip_line(
                    spec,
                    &match (plan, docker_why) {
                        (None, _) => "it has no container image".to_owned(),
                        (Some(_), Some(why)) => why,
                        (Some(_), None) => "no container was started".to_owned(),
                    },
                ))),
            }
        }
    }
}

/// The one line that says a backend is skipped: which, why, and how to run it.
///
/// ```
/// use adapter_conformance::{backends::memory, harness::skip_line};
/// let line = skip_line(&memory::spec(), "no reason");
/// assert!(line.starts_with("SKIPPED backend memory: no reason"));
/// ```
pub fn skip_line(spec: &BackendSpec, why: &str) -> String {
    let fail = if is_required(spec.name) {
        ""
    } else {
        " (or set AUTH_CONFORMANCE_REQUIRE to make this a failure)"
    };
    match &spec.source {
        Source::Server {
            env_var,
            example_url,
            ..
        } => format!(
            "SKIPPED backend {name}: {env_var} is not set and {why}; \
             set {env_var}={example_url} to run it{fail}",
            name = spec.name,
        ),
        Source::Embedded => format!("SKIPPED backend {}: {why}{fail}", spec.name),
    }
}

/// The variable's value when it is set and not blank. Read at run time, never at build
/// time, so one build serves every environment.
pub fn env_url(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

/// A port on 127.0.0.1 where nothing listens (bound, read, released), for the outage
/// scenario's adapter on a dead server.
///
/// ```
/// let port = adapter_conformance::harness::dead_port();
/// assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
/// ```
pub fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        // Port 9 (discard) is closed on every machine we run on.
        .unwrap_or(9)
}

/// Whether `AUTH_CONFORMANCE_REQUIRE` makes a missing `backend` a failure.
///
/// ```
/// use adapter_conformance::harness::required_by;
/// assert!(required_by("all", "redis"));
/// assert!(required_by("postgres, redis", "redis"));
/// assert!(!required_by("postgres", "redis"));
/// assert!(!required_by("", "redis"));
/// ```
pub fn required_by(list: &str, backend: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|name| name == "all" || name == backend)
}

/// Whether the environment requires this backend (see [`REQUIRE_VAR`]).
pub fn is_required(backend: &str) -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|list| required_by(&list, backend))
}

/// `Ok` when a Docker engine answers, else why not. Checked once per process, in well
/// under a second: a socket that is missing or refuses is answered at once, a TCP
/// `DOCKER_HOST` gets 500 ms.
pub fn docker_engine() -> Result<(), String> {
    static ANSWER: OnceLock<Result<(), String>> = OnceLock::new();
    ANSWER.get_or_init(probe_docker).clone()
}

fn probe_docker() -> Result<(), String> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    if let Some(addr) = host.strip_prefix("tcp://") {
        use std::net::ToSocketAddrs;
        let addr = addr.trim_end_matches('/');
        let sock = addr
            .to_socket_addrs()
            .map_err(|e| format!("DOCKER_HOST {host} does not resolve ({e})"))?
            .next()
            .ok_or_else(|| format!("DOCKER_HOST {host} does not resolve"))?;
        std::net::TcpStream::connect_timeout(&sock, Duration::from_millis(500))
            .map(drop)
            .map_err(|e| format!("no Docker engine answers at {host} ({e})"))
    } else {
        let path = host
            .strip_prefix("unix://")
            .filter(|p| !p.is_empty())
            .unwrap_or("/var/run/docker.sock")
            .to_owned();
        probe_unix_socket(&path)
    }
}

#[cfg(unix)]
fn probe_unix_socket(path: &str) -> Result<(), String> {
    std::os::unix::net::UnixStream::connect(path)
        .map(drop)
        .map_err(|e| format!("no Docker engine answers at {path} ({e})"))
}

#[cfg(not(unix))]
fn probe_unix_socket(path: &str) -> Result<(), String> {
    Err(format!(
        "no Docker engine socket at {path} on this platform"
    ))
}

/// Whether the Docker engine holds `image` (`name:tag`) already, asked over its API in
/// well under a second; `Err` when the engine does not answer.
pub fn docker_has_image(image: &str) -> Result<bool, String> {
    let request = format!("GET /images/{image}/json HTTP/1.0\r\nHost: docker\r\n\r\n");
    let reply = docker_request(&request)?;
    match reply.split_whitespace().nth(1) {
        Some("200") => Ok(true),
        Some("404") => Ok(false),
        _ => Err(format!(
            "the Docker engine gave an unexpected answer about image {image}: {}",
            reply.lines().next().unwrap_or_default()
        )),
    }
}

/// Sends one HTTP/1.0 request to the engine and returns the answer's first bytes.
fn docker_request(request: &str) -> Result<String, String> {
    use std::io::{Read, Write};

    fn exchange<S: Read + Write>(mut stream: S, request: &str) -> std::io::Result<String> {
        stream.write_all(request.as_bytes())?;
        let mut head = [0u8; 512];
        let n = stream.read(&mut head)?;
        Ok(String::from_utf8_lossy(&head[..n]).into_owned())
    }
    let timeout = Some(Duration::from_secs(2));
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let answer = if let Some(addr) = host.strip_prefix("tcp://") {
        let stream = std::net::TcpStream::connect(addr.trim_end_matches('/'))
            .map_err(|e| format!("no Docker engine answers at {host} ({e})"))?;
        stream.set_read_timeout(timeout).ok();
        exchange(stream, request)
    } else {
        #[cfg(unix)]
        {
            let path = host
                .strip_prefix("unix://")
                .filter(|p| !p.is_empty())
                .unwrap_or("/var/run/docker.sock");
            let stream = std::os::unix::net::UnixStream::connect(path)
                .map_err(|e| format!("no Docker engine answers at {path} ({e})"))?;
            stream.set_read_timeout(timeout).ok();
            exchange(stream, request)
        }
        #[cfg(not(unix))]
        return Err(format!(
            "no Docker engine socket at {host} on this platform"
        ));
    };
    answer.map_err(|e| format!("the Docker engine did not answer ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_probe_is_fast_and_explains_itself() {
        let started = std::time::Instant::now();
        let answer = probe_docker();
        assert!(started.elapsed() < Duration::from_secs(2));
        if let Err(why) = answer {
            assert!(why.contains("Docker"), "{why}");
        }
    }

    #[test]
    fn blank_env_values_count_as_unset() {
        assert_eq!(env_url("AUTH_CONFORMANCE_SURELY_UNSET_VARIABLE"), None);
    }
}
