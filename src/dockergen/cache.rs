//! What docker-gen mode keeps between render passes, so that a pass after an event costs one
//! filtered `/containers/json` per distinct filter set and the renders, not a rebuild of
//! everything. [`DaemonData`] is the watch's (kept by [`super::jobs::Feed`] in the generator's
//! loop); [`Templates`] serves the one-shot run and `pygen render --dialect go` (the watch's
//! templates are the generator's, reloaded when their files change):
//!
//! - `.Docker` (`/version` and `/info`): read once per connection. `NumContainers` follows the
//!   state cache at every pass; `NumImages` is the connection's figure (no image events reach
//!   the watch).
//! - the internal networks (`/networks`): read again only after a network `create`, `destroy`
//!   or `remove` event, or a reconnect (a network's `Internal` flag never changes after its
//!   creation; `connect` and `disconnect` change containers, which their inspect tells).
//! - each container's [`RuntimeContainer`]: built from its inspect body once, and again only
//!   when the state cache holds a new inspect of it (a new `Arc`), or when the internal
//!   networks changed.
//! - the parsed templates: kept while every file of the set has the same modification time
//!   and length.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value as Json;

use super::Error;
use crate::model::Container;
use crate::template::go::context;
use crate::template::go::data::{Docker, RuntimeContainer};
use crate::template::go::{self, Parsed};

/// How often each kind of work was done (what the tests and the debug log read).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// `/version` + `/info` reads.
    pub info_reads: u64,
    /// `/networks` reads.
    pub network_reads: u64,
    /// Containers built from their inspect body.
    pub containers_built: u64,
    /// Template sets read and parsed.
    pub template_parses: u64,
}

/// One container's template data and the cached inspect it was built from.
#[derive(Debug)]
struct Built {
    /// The state cache's container: a new inspect is a new `Arc`.
    source: Arc<Container>,
    /// What templates see.
    data: Arc<RuntimeContainer>,
}

/// The daemon-side data of a watch, kept between passes (see the module's documentation).
#[derive(Debug)]
pub struct DaemonData {
    /// `.Docker` as of the connection; `None` until read.
    docker: Option<Docker>,
    /// The internal networks' names as last read.
    internal: HashSet<String>,
    /// Whether `/networks` must be read (at first, after a network event).
    networks_stale: bool,
    /// The built containers by ID.
    containers: HashMap<String, Built>,
    /// Work done so far.
    counts: Counts,
}

impl Default for DaemonData {
    fn default() -> Self {
        DaemonData {
            docker: None,
            internal: HashSet::new(),
            networks_stale: true,
            containers: HashMap::new(),
            counts: Counts::default(),
        }
    }
}

impl DaemonData {
    /// Forgets everything: the next pass reads `/version`, `/info` and `/networks` again and
    /// rebuilds every container (after a reconnect, whose full sync replaces every container).
    pub fn reconnected(&mut self) {
        let counts = self.counts;
        *self = DaemonData {
            counts,
            ..DaemonData::default()
        };
    }

    /// Notes a daemon event: a network created or removed makes the next pass read
    /// `/networks` again.
    pub fn event(&mut self, typ: &str, action: &str) {
        if typ == "network" && matches!(action, "create" | "destroy" | "remove") {
            self.networks_stale = true;
        }
    }

    /// Whether `.Docker` must be read (`/version` and `/info`).
    pub fn needs_info(&self) -> bool {
        self.docker.is_none()
    }

    /// Whether the internal networks must be read (`/networks`).
    pub fn needs_networks(&self) -> bool {
        self.networks_stale
    }

    /// Stores `.Docker` from the `/version` and `/info` bodies.
    pub fn set_info(&mut self, version: &Json, info: &Json) {
        self.counts.info_reads += 1;
        self.docker = Some(context::docker(version, info, None));
    }

    /// Stores the internal networks from a `/networks` body; a different set than before
    /// rebuilds every container (their `Networks[].Internal` flags).
    pub fn set_networks(&mut self, networks: &Json) {
        self.counts.network_reads += 1;
        let internal = context::internal_networks(networks);
        if self.internal != internal {
            self.containers.clear();
        }
        self.internal = internal;
        self.networks_stale = false;
    }

    /// `.Docker` for a pass over `containers` (the state cache's, `own_id` the generator's
    /// container); `None` until [`DaemonData::set_info`].
    pub fn docker(&self, containers: usize, own_id: Option<&str>) -> Option<Docker> {
        let mut docker = self.docker.clone()?;
        docker.num_containers = i64::try_from(containers).unwrap_or(i64::MAX);
        docker.current_container_id = own_id.unwrap_or_default().to_owned();
        Some(docker)
    }

    /// The template data of every container of the state cache's `snapshot`, by ID: built
    /// again only for the containers whose inspect changed since the last call. A container
    /// whose inspect body is not JSON is left out.
    pub fn containers(
        &mut self,
        snapshot: &[Arc<Container>],
    ) -> HashMap<String, Arc<RuntimeContainer>> {
        let internal = &self.internal;
        let mut kept = HashMap::with_capacity(snapshot.len());
        let mut out = HashMap::with_capacity(snapshot.len());
        for source in snapshot {
            let id = source.id();
            let built = match self.containers.remove(id) {
                Some(b) if Arc::ptr_eq(&b.source, source) => b,
                _ => {
                    let Ok(inspect) = serde_json::from_str::<Json>(&source.raw_json()) else {
                        continue;
                    };
                    self.counts.containers_built += 1;
                    Built {
                        source: Arc::clone(source),
                        data: Arc::new(context::runtime_container(&inspect, internal)),
                    }
                }
            };
            out.insert(id.to_owned(), Arc::clone(&built.data));
            kept.insert(id.to_owned(), built);
        }
        // What is not in the snapshot any more is dropped with the old map.
        self.containers = kept;
        out
    }

    /// Work done so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }
}

/// A file's modification time and length: what says it was edited.
type Stamp = (Option<SystemTime>, u64);

/// One template set as last read.
#[derive(Debug)]
struct Entry {
    /// The files' stamps when they were read.
    stamps: Vec<Stamp>,
    /// The parsed set, or Go's parse error.
    parsed: Result<Parsed, String>,
}

/// Parsed template sets by their files, re-read when a file's stamp changes.
#[derive(Debug, Default)]
pub struct Templates {
    entries: HashMap<Vec<PathBuf>, Entry>,
    /// Template sets read and parsed.
    parses: u64,
}

fn template_error(path: &Path, e: &std::io::Error) -> Error {
    Error::TemplateFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

fn base_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

impl Templates {
    /// The parsed set of `templates` (the first is executed, the others define templates it
    /// may call, each named by its base name as Go's `ParseFiles` names them): the kept one
    /// when no file changed, else read and parsed now.
    pub fn get(&mut self, templates: &[PathBuf]) -> Result<Parsed, Error> {
        let first = templates.first().ok_or(Error::NoTemplate)?;
        let stamps = templates
            .iter()
            .map(|p| {
                let meta = std::fs::metadata(p).map_err(|e| template_error(p, &e))?;
                Ok((meta.modified().ok(), meta.len()))
            })
            .collect::<Result<Vec<Stamp>, Error>>()?;
        if let Some(entry) = self.entries.get(templates)
            && entry.stamps == stamps
        {
            return entry.parsed.clone().map_err(Error::Render);
        }
        // Read after the stamps were taken: an edit in between changes the stamp the next
        // render sees, which reads the files again.
        let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| template_error(p, &e));
        let text = read(first)?;
        let others = templates[1..]
            .iter()
            .map(|p| Ok((base_name(p), read(p)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        self.parses += 1;
        // Real paths: absolute ones as given, relative ones from the working folder.
        let parsed = Parsed::parse(&text, &others, Path::new("/"), &base_name(first))
            .map_err(|e| e.to_string());
        self.entries.insert(
            templates.to_vec(),
            Entry {
                stamps,
                parsed: parsed.clone(),
            },
        );
        parsed.map_err(Error::Render)
    }

    /// Renders `templates` over `context` (see [`Templates::get`]).
    pub fn render(
        &mut self,
        templates: &[PathBuf],
        context: &go::Context,
        keep_blank_lines: bool,
    ) -> Result<String, Error> {
        self.get(templates)?
            .execute(context, keep_blank_lines)
            .map_err(|e| Error::Render(e.to_string()))
    }

    /// Template sets read and parsed so far.
    pub fn parses(&self) -> u64 {
        self.parses
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn container(id: &str, env: &str) -> Arc<Container> {
        let raw = json!({
            "Id": id,
            "Name": format!("/{id}"),
            "Created": "2024-01-02T03:04:05Z",
            "Config": {"Image": "img", "Env": [env], "Labels": {}},
            "State": {"Status": "running", "Running": true},
            "NetworkSettings": {"Networks": {"front": {"IPAddress": "10.0.0.2"}}}
        });
        Arc::new(Container::from_inspect_json(&raw.to_string()).expect("a container"))
    }

    #[test]
    fn only_changed_containers_are_built_again() {
        let mut data = DaemonData::default();
        data.set_networks(&json!([]));
        let a = container("a", "X=1");
        let b = container("b", "X=2");
        let first = data.containers(&[Arc::clone(&a), Arc::clone(&b)]);
        assert_eq!(data.counts().containers_built, 2);
        assert_eq!(first["a"].env["X"], "1");

        // Same inspects: nothing is built, the same records are handed out.
        let again = data.containers(&[Arc::clone(&a), Arc::clone(&b)]);
        assert_eq!(data.counts().containers_built, 2);
        assert!(Arc::ptr_eq(&first["a"], &again["a"]));

        // A new inspect of `a` (same ID): only `a` is built, and shows the change.
        let a2 = container("a", "X=3");
        let changed = data.containers(&[Arc::clone(&a2), Arc::clone(&b)]);
        assert_eq!(data.counts().containers_built, 3);
        assert_eq!(changed["a"].env["X"], "3");
        assert!(Arc::ptr_eq(&first["b"], &changed["b"]));

        // A removed container is gone; coming back, it is built again.
        let without = data.containers(std::slice::from_ref(&a2));
        assert!(!without.contains_key("b"));
        data.containers(&[Arc::clone(&a2), Arc::clone(&b)]);
        assert_eq!(data.counts().containers_built, 4);
    }

    #[test]
    fn internal_networks_change_rebuilds_and_network_events_reread() {
        let mut data = DaemonData::default();
        assert!(data.needs_info() && data.needs_networks());
        data.set_networks(&json!([]));
        let a = container("a", "X=1");
        let before = data.containers(std::slice::from_ref(&a));
        assert!(!before["a"].networks[0].internal);

        data.event("network", "connect");
        data.event("container", "create");
        assert!(
            !data.needs_networks(),
            "connect keeps the internal networks"
        );
        data.event("network", "create");
        assert!(data.needs_networks());
        // The same set again: the containers are kept.
        data.set_networks(&json!([]));
        data.containers(std::slice::from_ref(&a));
        assert_eq!(data.counts().containers_built, 1);
        // `front` became internal (a network removed and created again): rebuilt.
        data.event("network", "destroy");
        data.set_networks(&json!([{"Name": "front", "Internal": true}]));
        let after = data.containers(std::slice::from_ref(&a));
        assert_eq!(data.counts().containers_built, 2);
        assert!(after["a"].networks[0].internal);
        assert_eq!(data.counts().network_reads, 3);
    }

    #[test]
    fn docker_is_read_once_per_connection() {
        let mut data = DaemonData::default();
        assert!(data.docker(0, None).is_none());
        data.set_info(
            &json!({"Version": "27.0"}),
            &json!({"Containers": 9, "Images": 4}),
        );
        assert!(!data.needs_info());
        let d = data.docker(3, Some("me")).expect("docker");
        assert_eq!(
            (d.num_containers, d.num_images, d.version.as_str()),
            (3, 4, "27.0")
        );
        assert_eq!(d.current_container_id, "me");
        data.set_networks(&json!([]));
        data.containers(&[container("a", "X=1")]);
        data.reconnected();
        assert!(data.needs_info() && data.needs_networks());
        assert_eq!(data.counts().info_reads, 1, "counts survive a reconnect");
        data.set_networks(&json!([]));
        data.containers(&[container("a", "X=1")]);
        assert_eq!(
            data.counts().containers_built,
            2,
            "rebuilt after a reconnect"
        );
    }

    #[test]
    fn templates_are_parsed_again_only_when_a_file_changes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let main = dir.path().join("main.tmpl");
        let part = dir.path().join("part.tmpl");
        std::fs::write(&main, "{{ template \"part.tmpl\" . }}").expect("write");
        std::fs::write(&part, "one").expect("write");
        let set = vec![main.clone(), part.clone()];
        let ctx = go::Context::default();
        let mut t = Templates::default();
        assert_eq!(t.render(&set, &ctx, false).expect("renders"), "one");
        assert_eq!(t.render(&set, &ctx, false).expect("renders"), "one");
        assert_eq!(t.parses(), 1, "unchanged files are not parsed again");

        // A longer included file: seen at the next render.
        std::fs::write(&part, "three").expect("write");
        assert_eq!(t.render(&set, &ctx, false).expect("renders"), "three");
        assert_eq!(t.parses(), 2);

        // Same length, later modification time: seen too.
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::write(&part, "THREE").expect("write");
        std::fs::File::options()
            .write(true)
            .open(&part)
            .and_then(|f| f.set_modified(later))
            .expect("set mtime");
        assert_eq!(t.render(&set, &ctx, false).expect("renders"), "THREE");
        assert_eq!(t.parses(), 3);

        // A parse error is kept as long as the file is unchanged, and reported each time.
        std::fs::write(&main, "{{ if }}").expect("write");
        let first = t.render(&set, &ctx, false).expect_err("parse error");
        let second = t.render(&set, &ctx, false).expect_err("parse error");
        assert_eq!(first.to_string(), second.to_string());
        assert!(first.to_string().contains("main.tmpl"), "{first}");
        assert_eq!(t.parses(), 4);

        // A missing file names itself.
        std::fs::remove_file(&part).expect("remove");
        let err = t.render(&set, &ctx, false).expect_err("missing");
        assert!(err.to_string().contains("part.tmpl"), "{err}");
    }
}
