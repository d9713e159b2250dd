//! The Jinja dialect behind the template seam: docker-pygen's templates compiled by minijinja
//! in an environment set up like docker-pygen's Jinja2 one (`environment.rs`), rendered over
//! the context of `context.rs`, with errors located at their template, line and column.
//!
//! Every compile builds a fresh environment, so reloading a template re-reads the main file
//! and its includes alike (docker-pygen re-read includes but never the main template, B21).
//! File templates resolve `include`/`import`/`extends` names relative to the template's own
//! folder, as Jinja2's `FileSystemLoader` did: `/` separates folders, and a name with a `..`
//! part is not found (templates cannot reach outside their folder). Inline and URL templates
//! have nothing to include from; trying gives an error saying so.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use minijinja::{Environment, ErrorKind};

use super::context::{Context, ObjectCache};
use super::{environment, hints};
use crate::model::Snapshot;
use crate::template::engine::{Compiled, Dialect, Error, Item, Unit};

/// The Jinja dialect: docker-pygen's template language.
#[derive(Debug, Clone, Copy, Default)]
pub struct Jinja;

impl Dialect for Jinja {
    fn compile(&self, unit: Unit) -> Result<Box<dyn Compiled>, Error> {
        Ok(Box::new(JinjaTemplate::compile(unit)?))
    }
}

/// Sources of the templates an environment loaded (as written, with the map from the
/// compiled text's offsets back to them), for error columns.
type Sources = Arc<Mutex<HashMap<String, (Arc<str>, super::rewrite::OffsetMap)>>>;

/// A compiled Jinja template with its own environment.
pub struct JinjaTemplate {
    /// The environment holding the main template and, once used, its includes.
    env: Environment<'static>,
    /// Name of the main template in `env`.
    name: String,
    /// Sources by template name (main and includes), to turn error offsets into columns.
    sources: Sources,
    /// Variables the main template reads from the context.
    undeclared: HashSet<String>,
    /// Whether the template pulls in other templates, whose variables are not known.
    pulls_in_templates: bool,
    /// The container objects of earlier renders, reused while their container is unchanged.
    objects: Arc<ObjectCache>,
    /// The folder of a file template (its includes resolve there); `None` otherwise.
    folder: Option<PathBuf>,
}

impl std::fmt::Debug for JinjaTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JinjaTemplate")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl JinjaTemplate {
    /// Compiles `unit.text` as template `unit.name` in a fresh environment whose includes come
    /// from `unit.folder` (or are refused when there is none).
    pub fn compile(unit: Unit) -> Result<JinjaTemplate, Error> {
        let Unit {
            name,
            description,
            text,
            folder,
        } = unit;
        let text = super::whitespace::normalize(text);
        let mut env = environment::new_environment();
        let sources: Sources = Arc::default();
        let pulls_in_templates = pulls_in_templates(&text);
        let (compiled, offsets) = super::rewrite::prepare(&text);
        lock(&sources).insert(name.clone(), (Arc::from(text.as_str()), offsets));
        set_loader(&mut env, folder.clone(), sources.clone(), &description);
        if let Err(e) = env.add_template_owned(name.clone(), compiled) {
            return Err(located(e, &name, &sources, true));
        }
        let undeclared = match env.get_template(&name) {
            Ok(t) => t.undeclared_variables(false),
            Err(e) => return Err(located(e, &name, &sources, true)),
        };
        Ok(JinjaTemplate {
            env,
            name,
            sources,
            undeclared,
            pulls_in_templates,
            objects: Arc::default(),
            folder,
        })
    }

    /// Renders with `context` (any map; normally the context of a snapshot). Synchronous and
    /// CPU-bound: async callers run it off their runtime.
    pub fn render(&self, context: minijinja::Value) -> Result<String, Error> {
        let template = self
            .env
            .get_template(&self.name)
            .map_err(|e| located(e, &self.name, &self.sources, false))?;
        template
            .render(context)
            .map_err(|e| located(e, &self.name, &self.sources, false))
    }
}

impl Compiled for JinjaTemplate {
    /// Builds the context (with `all_containers` only when the template may read it) and
    /// renders.
    fn render(&self, snapshot: &Snapshot) -> Result<String, Error> {
        let with_all = self.reads("all_containers");
        let context = Context::new(snapshot, with_all, self.objects.clone());
        JinjaTemplate::render(self, minijinja::Value::from_object(context))
    }

    /// Conservative: true whenever the template includes, imports or extends others, whose
    /// variables are not known.
    fn reads(&self, variable: &str) -> bool {
        self.pulls_in_templates || self.undeclared.contains(variable)
    }

    /// Renders with the item's context (see [`Context::for_item`]).
    fn render_item(&self, snapshot: &Snapshot, item: &Item) -> Result<String, Error> {
        let with_all = self.reads("all_containers");
        let context = Context::for_item(snapshot, item, with_all, self.objects.clone());
        JinjaTemplate::render(self, minijinja::Value::from_object(context))
    }

    /// The main file and the includes loaded so far, when the template is a file.
    fn files(&self) -> Vec<PathBuf> {
        let Some(folder) = &self.folder else {
            return Vec::new();
        };
        let mut names: Vec<String> = lock(&self.sources).keys().cloned().collect();
        names.sort();
        names
            .iter()
            .filter_map(|name| resolve(folder, name))
            .collect()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Locks the source map; a panic elsewhere while holding it left it usable anyway.
fn lock(
    sources: &Sources,
) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<str>, super::rewrite::OffsetMap)>> {
    sources
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Installs the loader for includes: files under `folder`, or an explanatory error.
fn set_loader(
    env: &mut Environment<'static>,
    folder: Option<PathBuf>,
    sources: Sources,
    description: &str,
) {
    let Some(folder) = folder else {
        let description = description.to_owned();
        env.set_loader(move |name: &str| -> Result<Option<String>, minijinja::Error> {
            Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot load '{name}': only file templates can include other templates ({description} is not a file)"),
            ))
        });
        return;
    };
    env.set_loader(move |name: &str| {
        let Some(path) = resolve(&folder, name) else {
            return Ok(None);
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let text = super::whitespace::normalize(text);
                let (compiled, offsets) = super::rewrite::prepare(&text);
                lock(&sources).insert(name.to_owned(), (Arc::from(text.as_str()), offsets));
                Ok(Some(compiled))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("cannot read {}: {e}", path.display()),
            )
            .with_source(e)),
        }
    });
}

/// The file an include name refers to: `/`-separated parts under `folder`; empty and `.`
/// parts are skipped, and any `..` part makes the name unresolvable (as in Jinja2).
fn resolve(folder: &Path, name: &str) -> Option<PathBuf> {
    let mut path = folder.to_path_buf();
    let mut any = false;
    for part in name.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return None,
            part => {
                path.push(part);
                any = true;
            }
        }
    }
    any.then_some(path)
}

/// Whether `text` has an `include`, `import`, `from … import` or `extends` tag.
fn pulls_in_templates(text: &str) -> bool {
    text.match_indices("{%").any(|(at, _)| {
        let tag = text[at + 2..]
            .trim_start_matches(['-', '+', '~'])
            .trim_start();
        let word: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        matches!(word.as_str(), "include" | "import" | "from" | "extends")
    })
}

/// Turns an engine error into ours, with the template name, line and column. An error in an
/// included template arrives wrapped ("could not render include"); the innermost located
/// error is the one that says what is wrong and where.
fn located(error: minijinja::Error, main: &str, sources: &Sources, syntax: bool) -> Error {
    let mut inner: &minijinja::Error = &error;
    while let Some(next) = std::error::Error::source(inner)
        .and_then(|s| s.downcast_ref::<minijinja::Error>())
        .filter(|next| next.line().is_some())
    {
        inner = next;
    }
    let name = inner.name().unwrap_or(main).to_owned();
    let mut line = inner.line();
    let sources = lock(sources);
    let original = sources.get(&name);
    let offset = inner
        .range()
        .zip(original)
        .map(|(range, (_, offsets))| offsets.original(range.start));
    let mut column = offset.zip(original).and_then(|(offset, (source, _))| {
        let before = source.get(..offset)?;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Some(before[line_start..].chars().count() + 1)
    });
    let mut message = match inner.detail() {
        Some(detail) => format!("{}: {detail}", inner.kind()),
        None => inner.kind().to_string(),
    };
    let detail = inner.detail().unwrap_or_default();
    // minijinja reports an unclosed block where the input ends: point at the tag instead.
    if detail.starts_with("unexpected end of input")
        && !detail.contains("variable block")
        && let Some(open) = original.and_then(|(source, _)| hints::unclosed(source))
    {
        message = format!("{message}: {}", open.hint());
        line = Some(open.line);
        column = Some(open.column);
    }
    // A method on `none` (a missing attribute of a container, ...) names no expression.
    if inner.kind() == ErrorKind::UnknownMethod
        && detail.starts_with("none has no method")
        && let Some(expr) = offset
            .zip(original)
            .and_then(|(offset, (source, _))| hints::receiver(source, offset))
    {
        message = format!("{message} (`{expr}` is none)");
    }
    drop(sources);
    if syntax || inner.kind() == ErrorKind::SyntaxError {
        Error::Syntax {
            name,
            line,
            column,
            message,
            source: Box::new(error),
        }
    } else {
        Error::Render {
            name,
            line,
            column,
            message,
            source: Box::new(error),
        }
    }
}
