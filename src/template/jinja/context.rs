//! The template context: the variables every render sees (api.md §2).
//!
//! Built per render from a [`Snapshot`]; cheap, because the containers are shared and their
//! template objects are kept across renders in an [`ObjectCache`] until the container changes
//! (an event that touches one container of ten thousand rebuilds one object, not all), and
//! a render whose containers are all the values of the last one reuses its sorted list.
//! `all_containers` is a lazy value like docker-pygen's `Lazy`: its list is made on first
//! use, and only when requested. The Swarm lists (`services`, `all_services`, `nodes`) are
//! made on first use too, from the snapshot's Swarm state; they are empty when the daemon is
//! not a Swarm manager.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

use super::container::container_value;
use super::list::{List, ListKind};
use super::swarm::{node_value, service_value};
use crate::model::{Container, Snapshot, Swarm};
use crate::template::engine::Item;

/// The template objects of containers, by id, kept across the renders of one template while
/// their container is the same shared value (the state cache replaces the `Arc` when an event
/// changes a container). An object keeps what templates read of it (`networks`, `ports`, and
/// `raw` when a template reads it), so a render reuses that work for unchanged containers.
#[derive(Debug, Default)]
pub(crate) struct ObjectCache {
    /// Container id → the container an object shows and the object.
    objects: Mutex<HashMap<Box<str>, Kept>>,
    /// The sorted containers and the `containers` list of the last whole render, reused by
    /// the next one when no container changed (a render with nothing new sorts nothing and
    /// looks no object up).
    last: Mutex<Option<Arc<Listed>>>,
}

/// A container and its template object.
type Kept = (Arc<Container>, Value);

/// The containers of a snapshot as the context lists them.
#[derive(Debug)]
struct Listed {
    /// The snapshot's containers, in its order: the list holds while each is the same value.
    from: Vec<Arc<Container>>,
    /// The snapshot's own container id (`.self` of the list).
    own_id: Option<Arc<str>>,
    /// Every container, newest first.
    sorted: Vec<Arc<Container>>,
    /// `containers`: the objects of the running ones, newest first.
    running: Value,
}

impl ObjectCache {
    /// The containers of `snapshot`, newest first, and the `containers` list: the last ones
    /// when the snapshot holds the same container values (and own id) as then.
    fn listed(&self, snapshot: &Snapshot, own_id: Option<Arc<str>>) -> Arc<Listed> {
        // A render that panicked while holding the lock left a whole value or none.
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(listed) = last.as_ref().filter(|listed| {
            listed.own_id == own_id
                && listed.from.len() == snapshot.containers.len()
                && listed
                    .from
                    .iter()
                    .zip(&snapshot.containers)
                    .all(|(a, b)| Arc::ptr_eq(a, b))
        }) {
            return listed.clone();
        }
        let sorted = newest_first(snapshot);
        let listed = Arc::new(Listed {
            from: snapshot.containers.clone(),
            running: self.running(&sorted, snapshot, own_id.clone()),
            own_id,
            sorted,
        });
        *last = Some(listed.clone());
        listed
    }

    /// `containers`: the objects of the running ones among `sorted`, in its order (objects of
    /// containers not in `snapshot` are dropped, as [`ObjectCache::objects`] does).
    fn running(
        &self,
        sorted: &[Arc<Container>],
        snapshot: &Snapshot,
        own_id: Option<Arc<str>>,
    ) -> Value {
        let running = self.objects(
            sorted.iter().filter(|c| c.is_running()),
            &snapshot.containers,
        );
        List::new(ListKind::CONTAINERS, running, own_id).into_value()
    }

    /// The objects of `containers`, in their order: kept ones when the container is the same
    /// value, new ones otherwise. Objects of containers not among `all` (every container of
    /// the snapshot) are dropped.
    fn objects<'a>(
        &self,
        containers: impl Iterator<Item = &'a Arc<Container>>,
        all: &[Arc<Container>],
    ) -> Vec<Value> {
        // A render that panicked while holding the lock left whole entries behind: still usable.
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        let values = containers
            .map(|c| match objects.get(c.id()) {
                Some((kept, value)) if Arc::ptr_eq(kept, c) => value.clone(),
                _ => {
                    let value = container_value(c.clone());
                    objects.insert(c.id().into(), (c.clone(), value.clone()));
                    value
                }
            })
            .collect();
        if objects.len() > all.len() {
            let present: HashSet<&str> = all.iter().map(|c| c.id()).collect();
            objects.retain(|id, _| present.contains(&**id));
        }
        values
    }
}

/// Context keys, in the order `debug()` shows them.
const KEYS_WITH_ALL: &[&str] = &[
    "containers",
    "all_containers",
    "services",
    "all_services",
    "nodes",
    "own_container_id",
    "read_config",
];

/// Context keys when `all_containers` was not requested.
const KEYS: &[&str] = &[
    "containers",
    "services",
    "all_services",
    "nodes",
    "own_container_id",
    "read_config",
];

/// Context keys added in a per-item render.
const ITEM_KEYS: &[&str] = &["item", "item_name"];

/// What `all_containers` is built from, on first use.
#[derive(Debug)]
struct AllContainers {
    /// Every container, newest first.
    sorted: Sorted,
    /// Where the container objects are kept.
    cache: Arc<ObjectCache>,
}

/// The containers of `snapshot`, newest first.
fn newest_first(snapshot: &Snapshot) -> Vec<Arc<Container>> {
    snapshot.newest_first().into_iter().cloned().collect()
}

/// Every container of a render, newest first.
#[derive(Debug)]
enum Sorted {
    /// Those of a whole render, shared with the object cache.
    Listed(Arc<Listed>),
    /// Those of one item's render.
    Own(Vec<Arc<Container>>),
}

impl Sorted {
    /// The containers.
    fn containers(&self) -> &[Arc<Container>] {
        match self {
            Sorted::Listed(listed) => &listed.sorted,
            Sorted::Own(sorted) => sorted,
        }
    }
}

/// The context of one render.
#[derive(Debug)]
pub(crate) struct Context {
    /// `containers`: running containers, newest first.
    containers: Value,
    /// Every container, newest first, when `all_containers` was requested.
    all: Option<AllContainers>,
    /// `all_containers`, built on first use.
    all_value: OnceLock<Value>,
    /// pygen's own container id, for `own_container_id` and `.self`.
    own_id: Option<Arc<str>>,
    /// The Swarm state; `None` when the daemon is not a Swarm manager.
    swarm: Option<Arc<Swarm>>,
    /// `services`, built on first use.
    services: OnceLock<Value>,
    /// `all_services`, built on first use.
    all_services: OnceLock<Value>,
    /// `nodes`, built on first use.
    nodes: OnceLock<Value>,
    /// In a per-item render: `item` (the container, or the label value) and `item_name`.
    item: Option<(Value, Value)>,
}

impl Context {
    /// The context of a render of `snapshot`, with container objects from `cache`.
    pub(crate) fn new(
        snapshot: &Snapshot,
        with_all_containers: bool,
        cache: Arc<ObjectCache>,
    ) -> Context {
        Context::scoped(snapshot, None, with_all_containers, cache)
    }

    /// The context of one item's render (`per_item`): `containers` and `all_containers` hold
    /// the item's containers only, `item` is the item and `item_name` its name. Objects of
    /// the other containers stay cached for the next item.
    pub(crate) fn for_item(
        snapshot: &Snapshot,
        item: &Item,
        with_all_containers: bool,
        cache: Arc<ObjectCache>,
    ) -> Context {
        Context::scoped(snapshot, Some(item), with_all_containers, cache)
    }

    fn scoped(
        snapshot: &Snapshot,
        item: Option<&Item>,
        with_all_containers: bool,
        cache: Arc<ObjectCache>,
    ) -> Context {
        let own_id: Option<Arc<str>> = snapshot.own_container_id.as_deref().map(Arc::from);
        let (containers, sorted) = match item {
            None => {
                let listed = cache.listed(snapshot, own_id.clone());
                (listed.running.clone(), Sorted::Listed(listed))
            }
            Some(item) => {
                let sorted = newest_first(&item.scope(snapshot));
                let running = cache.running(&sorted, snapshot, own_id.clone());
                (running, Sorted::Own(sorted))
            }
        };
        let item = item.map(|item| {
            let value = match &item.container {
                Some(container) => cache
                    .objects(std::iter::once(container), &snapshot.containers)
                    .pop()
                    .unwrap_or_default(),
                None => Value::from(item.name.as_str()),
            };
            (value, Value::from(item.name.as_str()))
        });
        Context {
            containers,
            all: with_all_containers.then(|| AllContainers { sorted, cache }),
            all_value: OnceLock::new(),
            own_id,
            swarm: snapshot.swarm.clone(),
            services: OnceLock::new(),
            all_services: OnceLock::new(),
            nodes: OnceLock::new(),
            item,
        }
    }

    /// A context variable (for tests of what is kept across renders).
    #[cfg(test)]
    pub(crate) fn get_value_by_str_for_test(self, key: &str) -> Value {
        Arc::new(self).get_value_by_str(key).unwrap_or_default()
    }

    /// Whether `all_containers` was built (for tests of its laziness).
    #[cfg(test)]
    pub(crate) fn all_containers_built(&self) -> bool {
        self.all_value.get().is_some()
    }

    /// `services` (`running_only`) or `all_services`: every service, with the tasks that
    /// should run or with all tasks; empty outside a Swarm.
    fn services(&self, running_only: bool) -> Value {
        let items = self.swarm.as_ref().map_or_else(Vec::new, |swarm| {
            swarm
                .services
                .iter()
                .map(|s| service_value(s.clone(), running_only, self.own_id.clone()))
                .collect()
        });
        List::new(ListKind::SERVICES, items, self.own_id.clone()).into_value()
    }

    /// `nodes`: every node of the Swarm; empty outside a Swarm.
    fn nodes(&self) -> Value {
        let items = self.swarm.as_ref().map_or_else(Vec::new, |swarm| {
            swarm.nodes.iter().map(|n| node_value(n.clone())).collect()
        });
        List::new(ListKind::NODES, items, None).into_value()
    }
}

impl Object for Context {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        Some(match key {
            "containers" => self.containers.clone(),
            "all_containers" => {
                let all = self.all.as_ref()?;
                self.all_value
                    .get_or_init(|| {
                        let sorted = all.sorted.containers();
                        let items = all.cache.objects(sorted.iter(), sorted);
                        List::new(ListKind::CONTAINERS, items, self.own_id.clone()).into_value()
                    })
                    .clone()
            }
            "services" => self.services.get_or_init(|| self.services(true)).clone(),
            "all_services" => self
                .all_services
                .get_or_init(|| self.services(false))
                .clone(),
            "nodes" => self.nodes.get_or_init(|| self.nodes()).clone(),
            "own_container_id" => Value::from(self.own_id.as_deref()),
            "read_config" => super::read_config::function(),
            "item" => self.item.as_ref()?.0.clone(),
            "item_name" => self.item.as_ref()?.1.clone(),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let keys = if self.all.is_some() {
            KEYS_WITH_ALL
        } else {
            KEYS
        };
        if self.item.is_some() {
            Enumerator::Values(
                keys.iter()
                    .chain(ITEM_KEYS)
                    .map(|k| Value::from(*k))
                    .collect(),
            )
        } else {
            Enumerator::Str(keys)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Environment;

    fn container(id: &str, name: &str, status: &str, created: &str) -> Arc<Container> {
        let json = serde_json::json!({
            "Id": id, "Name": format!("/{name}"), "Created": created,
            "State": {"Status": status},
        });
        Arc::new(Container::from_inspect_json(&json.to_string()).expect("valid"))
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            containers: vec![
                container("a1", "old", "running", "2020-01-01T00:00:00Z"),
                container("b2", "stopped", "exited", "2022-01-01T00:00:00Z"),
                container("c3", "new", "running", "2021-06-01T00:00:00.5Z"),
                container("d4", "paused", "paused", "2021-06-01T00:00:00.05Z"),
                container("e5", "fresh", "created", "2023-01-01T00:00:00Z"),
            ],
            own_container_id: Some("c3".into()),
            swarm: None,
        }
    }

    fn render(template: &str, ctx: Value) -> String {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.render_str(template, ctx)
            .unwrap_or_else(|e| format!("ERROR {e:#}"))
    }

    #[test]
    fn containers_are_running_ones_newest_first() {
        let ctx = Value::from_object(Context::new(&snapshot(), false, Arc::default()));
        assert_eq!(
            render(
                "{{ containers|map(attribute='name')|join(',') }}",
                ctx.clone()
            ),
            "new,paused,old"
        );
        assert_eq!(
            render(
                "{{ containers.self.name }} {{ own_container_id }}",
                ctx.clone()
            ),
            "new c3"
        );
        assert_eq!(render("{{ all_containers is defined }}", ctx), "False");
    }

    /// A render with the same container values reuses the list; a changed container or
    /// own id makes a new one.
    #[test]
    fn containers_list_is_kept_until_a_container_changes() {
        let cache = Arc::new(ObjectCache::default());
        let containers = |snapshot: &Snapshot| {
            Context::new(snapshot, false, cache.clone()).get_value_by_str_for_test("containers")
        };
        let mut snap = snapshot();
        let first = containers(&snap);
        let again = containers(&snap);
        let same = |a: &Value, b: &Value| {
            Arc::ptr_eq(
                &a.downcast_object::<List>().expect("a list"),
                &b.downcast_object::<List>().expect("a list"),
            )
        };
        assert!(same(&first, &again));
        snap.containers[0] = container("a1", "renamed", "running", "2020-01-01T00:00:00Z");
        let changed = containers(&snap);
        assert!(!same(&changed, &first));
        assert_eq!(
            render(
                "{{ containers|map(attribute='name')|join(',') }}",
                Value::from_object(Context::new(&snap, false, cache.clone()))
            ),
            "new,paused,renamed"
        );
        snap.own_container_id = Some("a1".into());
        let own = Value::from_object(Context::new(&snap, false, cache.clone()));
        assert_eq!(render("{{ containers.self.name }}", own), "renamed");
    }

    #[test]
    fn all_containers_is_lazy() {
        let context = Arc::new(Context::new(&snapshot(), true, Arc::default()));
        let ctx = Value::from_dyn_object(context.clone());
        assert_eq!(render("{{ containers|length }}", ctx.clone()), "3");
        assert!(!context.all_containers_built());
        assert_eq!(
            render(
                "{{ all_containers|map(attribute='name')|join(',') }} {{ all_containers.self.id }}",
                ctx
            ),
            "fresh,stopped,new,paused,old c3"
        );
        assert!(context.all_containers_built());
    }

    #[test]
    fn lazy_in_templates() {
        // docker-pygen's test_lazy_in_templates: for, |length, |first over all_containers.
        let snapshot = Snapshot {
            containers: vec![container("12", "mocked", "exited", "")],
            own_container_id: None,
            swarm: None,
        };
        let ctx = Value::from_object(Context::new(&snapshot, true, Arc::default()));
        let template = "{% for c in all_containers %}{{ all_containers|length }}{{ c.name }}\
                        -{% set first = all_containers|first %}{{ first.id }}{% endfor %}";
        assert_eq!(render(template, ctx), "1mocked-12");
    }

    #[test]
    fn swarm_variables_are_empty_lists() {
        let ctx = Value::from_object(Context::new(&snapshot(), false, Arc::default()));
        let template = "{{ services|length }} {{ all_services|length }} {{ nodes|length }} \
                        {{ services.self }} {{ services.matching('x')|length }} \
                        {{ services.first }} {{ nodes.matching('x')|length }} {{ services or 'empty' }}";
        assert_eq!(render(template, ctx), "0 0 0 None 0 None 0 empty");
    }

    #[test]
    fn no_own_id_gives_none() {
        let mut snap = snapshot();
        snap.own_container_id = None;
        let ctx = Value::from_object(Context::new(&snap, false, Arc::default()));
        assert_eq!(
            render("{{ own_container_id }} {{ containers.self }}", ctx),
            "None None"
        );
    }
}
