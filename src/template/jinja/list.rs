//! The list types templates see (docker-pygen's `EnhancedList` and `ResourceList` family):
//! `containers`, `services`, a service's `tasks`, `nodes`, `networks`, port lists.
//!
//! All are one minijinja sequence object tagged with the kind of item it holds. Every list
//! has `.first`, `.last` and `.first_value`; resource lists add `matching(target)` and
//! `not_matching(target)` (which keep the list type); container lists add `.healthy`,
//! `with_health(status)` and `.self`; task lists `with_status(status)` and `.self`; service
//! lists `.self`.

use std::collections::HashSet;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value, from_args};
use minijinja::{Error, ErrorKind, State};

use super::dict::eq_ignore_case;
use crate::model::MatchPolicy;
use crate::model::matching::{Hits, Kind, matching_indices};

/// Which list type a [`List`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    /// A plain `EnhancedList` (port numbers, aliases, mounts): no matching.
    Plain,
    /// A resource list with matching rules of the given kind.
    Resources(Kind),
}

impl ListKind {
    /// `containers`, `all_containers`.
    pub(crate) const CONTAINERS: ListKind = ListKind::Resources(Kind::Container);
    /// `services`, `all_services`.
    pub(crate) const SERVICES: ListKind = ListKind::Resources(Kind::Service);
    /// A service's `tasks`.
    pub(crate) const TASKS: ListKind = ListKind::Resources(Kind::Task);
    /// `nodes`.
    pub(crate) const NODES: ListKind = ListKind::Resources(Kind::Resource);
    /// `networks` of a container, service or task.
    pub(crate) const NETWORKS: ListKind = ListKind::Resources(Kind::Network);
}

/// A template list: items plus the kind that decides its helpers.
#[derive(Debug)]
pub(crate) struct List {
    /// Which list type this is.
    kind: ListKind,
    /// The items, in the order templates see them.
    items: Vec<Value>,
    /// pygen's own container id, for `.self` (carried into derived lists).
    own_id: Option<Arc<str>>,
}

impl List {
    /// A list of `kind` holding `items`; `own_id` serves `.self`.
    pub(crate) fn new(kind: ListKind, items: Vec<Value>, own_id: Option<Arc<str>>) -> List {
        List {
            kind,
            items,
            own_id,
        }
    }

    /// A plain list (`.first`, `.last`, `.first_value` only).
    pub(crate) fn plain(items: Vec<Value>) -> List {
        List::new(ListKind::Plain, items, None)
    }

    /// This list as a template value.
    pub(crate) fn into_value(self) -> Value {
        Value::from_object(self)
    }

    /// The kind of the list.
    #[cfg(test)]
    pub(crate) fn kind(&self) -> ListKind {
        self.kind
    }

    /// The items.
    #[cfg(test)]
    pub(crate) fn items(&self) -> &[Value] {
        &self.items
    }

    /// A list of the same type and own id with other items.
    fn derive(&self, items: Vec<Value>) -> List {
        List::new(self.kind, items, self.own_id.clone())
    }

    /// The first truthy item (Python truthiness: not none, `''`, `0` or empty).
    fn first_value(&self) -> Value {
        self.items
            .iter()
            .find(|v| v.is_true())
            .cloned()
            .unwrap_or(Value::from(()))
    }

    /// Indices of the items `target` matches, in rule order then list order.
    fn matching_hits(&self, target: &Value) -> Hits {
        let mut hits = Hits::new(self.items.len());
        let ListKind::Resources(kind) = self.kind else {
            return hits;
        };
        if let Some(target) = target.as_str() {
            for i in matching_indices(&self.items, target, kind, MatchPolicy::Template) {
                hits.add(i);
            }
        }
        if kind == Kind::Network {
            if let Some(ids) = network_ids_of(target) {
                for (i, item) in self.items.iter().enumerate() {
                    let id = item.get_attr("id").ok();
                    if id
                        .as_ref()
                        .and_then(Value::as_str)
                        .is_some_and(|id| ids.contains(id))
                    {
                        hits.add(i);
                    }
                }
            }
        }
        hits
    }

    /// `matching(target)`: the items `target` names, same list type.
    pub(crate) fn matching(&self, target: &Value) -> List {
        let hits = self.matching_hits(target);
        self.derive(hits.order.iter().map(|&i| self.items[i].clone()).collect())
    }

    /// `not_matching(target)`: the other items, in list order, same list type.
    pub(crate) fn not_matching(&self, target: &Value) -> List {
        let hits = self.matching_hits(target);
        let rest = (0..self.items.len())
            .filter(|&i| !hits.contains(i))
            .map(|i| self.items[i].clone())
            .collect();
        self.derive(rest)
    }

    /// Items whose string attribute `attr` equals `wanted` ignoring case.
    fn with_attr(&self, attr: &str, wanted: &str) -> List {
        let items = self
            .items
            .iter()
            .filter(|item| {
                item.get_attr(attr)
                    .ok()
                    .as_ref()
                    .and_then(Value::as_str)
                    .is_some_and(|v| eq_ignore_case(v, wanted))
            })
            .cloned()
            .collect();
        self.derive(items)
    }

    /// `.self`: the item that is pygen's own container (or its task / service).
    fn own_item(&self) -> Value {
        let none = Value::from(());
        let Some(own) = self.own_id.as_deref() else {
            return none;
        };
        let own = Value::from(own);
        match self.kind {
            ListKind::Resources(Kind::Service) => self
                .items
                .iter()
                .find(|service| {
                    service.get_attr("tasks").ok().is_some_and(|tasks| {
                        !as_task_list(&tasks).matching_hits(&own).order.is_empty()
                    })
                })
                .cloned()
                .unwrap_or(none),
            _ => self.matching(&own).first_value(),
        }
    }

    /// Whether a helper exists on this list type.
    fn has(&self, kind: Kind) -> bool {
        self.kind == ListKind::Resources(kind)
    }
}

/// The tasks of a service as a task list (they normally are one already).
fn as_task_list(tasks: &Value) -> Arc<List> {
    if let Some(list) = tasks.downcast_object::<List>() {
        if list.kind == ListKind::TASKS {
            return list;
        }
    }
    let items = tasks
        .try_iter()
        .map(|iter| iter.collect())
        .unwrap_or_default();
    Arc::new(List::new(ListKind::TASKS, items, None))
}

/// The network ids a non-string target stands for: a network list's ids, the networks of
/// an object that has some, or the id of an object. `None` when the target is none of these.
fn network_ids_of(target: &Value) -> Option<HashSet<String>> {
    let ids_of = |items: &mut dyn Iterator<Item = Value>| -> HashSet<String> {
        items
            .filter_map(|n| n.get_attr("id").ok()?.as_str().map(str::to_owned))
            .collect()
    };
    if let Some(list) = target.downcast_object_ref::<List>() {
        if list.kind == ListKind::NETWORKS {
            return Some(ids_of(&mut list.items.iter().cloned()));
        }
    }
    target.as_object()?;
    if let Ok(networks) = target.get_attr("networks") {
        if networks.is_true() {
            if let Ok(iter) = networks.try_iter() {
                return Some(ids_of(&mut iter.into_iter()));
            }
        }
    }
    let id = target.get_attr("id").ok()?;
    Some(id.as_str().map(str::to_owned).into_iter().collect())
}

impl Object for List {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_usize() {
            Some(i) => self.items.get(i).cloned(),
            None => self.get_value_by_str(key.as_str()?),
        }
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        let none = Value::from(());
        match key {
            "first" => Some(self.items.first().cloned().unwrap_or(none)),
            "last" => Some(self.items.last().cloned().unwrap_or(none)),
            "first_value" => Some(self.first_value()),
            "self"
                if self.has(Kind::Container) || self.has(Kind::Task) || self.has(Kind::Service) =>
            {
                Some(self.own_item())
            }
            "healthy" if self.has(Kind::Container) => {
                Some(self.with_attr("health", "healthy").into_value())
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.items.len())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.items.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let resources = matches!(self.kind, ListKind::Resources(_));
        match method {
            "matching" if resources => {
                let (target,): (&Value,) = from_args(args)?;
                Ok(self.matching(target).into_value())
            }
            "not_matching" if resources => {
                let (target,): (&Value,) = from_args(args)?;
                Ok(self.not_matching(target).into_value())
            }
            "with_health" if self.has(Kind::Container) => {
                let (status,): (&str,) = from_args(args)?;
                Ok(self.with_attr("health", status).into_value())
            }
            "with_status" if self.has(Kind::Task) => {
                let (status,): (&str,) = from_args(args)?;
                Ok(self.with_attr("status", status).into_value())
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The cases of docker-pygen's `tests/test_matching.py`, plus pygen's own.

    use super::*;
    use minijinja::value::Serde;
    use minijinja::{Environment, context};

    /// A list of `kind` from JSON items (plain maps, like the original's `EnhancedDict`s).
    fn list(kind: ListKind, items: serde_json::Value) -> List {
        list_own(kind, items, None)
    }

    fn list_own(kind: ListKind, items: serde_json::Value, own: Option<&str>) -> List {
        let items = match items {
            serde_json::Value::Array(a) => a.into_iter().map(|i| Value::from(Serde(i))).collect(),
            _ => panic!("test items must be an array"),
        };
        List::new(kind, items, own.map(Arc::from))
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn ids(list: &List) -> Vec<String> {
        list.items()
            .iter()
            .map(|i| i.get_attr("id").map(|v| v.to_string()).unwrap_or_default())
            .collect()
    }

    fn eval(expr: &str, ctx: Value) -> Value {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        let expr = env.compile_expression(expr).expect("valid expression");
        expr.eval(ctx).expect("evaluates")
    }

    #[test]
    fn match_by_id() {
        let source = list(
            ListKind::NODES,
            serde_json::json!([{"id": "001"}, {"id": "002"}, {"id": "003"}]),
        );
        assert_eq!(source.matching(&s("002")).items().len(), 1);
        assert_eq!(source.not_matching(&s("001")).items().len(), 2);
    }

    #[test]
    fn match_by_name() {
        let source = list(
            ListKind::NODES,
            serde_json::json!([{"id": "1", "name": "R01"}, {"id": "2", "name": "R02"}, {"id": "3", "name": "R03"}]),
        );
        assert_eq!(source.matching(&s("R02")).items().len(), 1);
        assert_eq!(source.not_matching(&s("R01")).items().len(), 2);
    }

    #[test]
    fn match_by_pygen_target_label() {
        let source = list(
            ListKind::NODES,
            serde_json::json!([
                {"id": "1", "labels": {"pygen.target": "pt01"}},
                {"id": "2", "labels": {"pygen.target": "pt02"}},
                {"id": "3", "labels": {"pygen.target": "pt03"}}
            ]),
        );
        assert_eq!(source.matching(&s("pt02")).items().len(), 1);
        assert_eq!(source.not_matching(&s("pt01")).items().len(), 2);
    }

    #[test]
    fn match_by_pygen_target_env() {
        let source = list(
            ListKind::NODES,
            serde_json::json!([
                {"id": "1", "env": {"PYGEN_TARGET": "PT01"}},
                {"id": "2", "env": {"PYGEN_TARGET": "PT02"}},
                {"id": "3", "env": {"PYGEN_TARGET": "PT03"}}
            ]),
        );
        assert_eq!(source.matching(&s("PT02")).items().len(), 1);
        assert_eq!(source.not_matching(&s("PT01")).items().len(), 2);
    }

    #[test]
    fn match_by_short_id() {
        let source = list(
            ListKind::NODES,
            serde_json::json!([{"id": "11234"}, {"id": "11345"}, {"id": "11456"}]),
        );
        assert_eq!(ids(&source.matching(&s("112"))), ["11234"]);
        assert_eq!(source.not_matching(&s("114")).items().len(), 2);
    }

    #[test]
    fn match_by_compose_service() {
        let source = list(
            ListKind::CONTAINERS,
            serde_json::json!([
                {"id": "1", "labels": {"com.docker.compose.service": "cs01"}},
                {"id": "2", "labels": {"com.docker.compose.service": "cs01"}},
                {"id": "3", "labels": {}}
            ]),
        );
        assert_eq!(source.matching(&s("cs01")).items().len(), 2);
        assert_eq!(source.not_matching(&s("cs01")).items().len(), 1);
    }

    #[test]
    fn match_by_swarm_service() {
        let source = list(
            ListKind::CONTAINERS,
            serde_json::json!([
                {"id": "1", "labels": {"com.docker.swarm.service.name": "ss01"}},
                {"id": "2", "labels": {"com.docker.swarm.service.name": "ss01"}},
                {"id": "3", "labels": {}}
            ]),
        );
        assert_eq!(source.matching(&s("ss01")).items().len(), 2);
        assert_eq!(source.not_matching(&s("ss01")).items().len(), 1);

        let source = list(
            ListKind::SERVICES,
            serde_json::json!([
                {"id": "1", "name": "srv01", "labels": {}},
                {"id": "2", "name": "srv02", "labels": {}},
                {"id": "3", "name": "srv03", "labels": {}}
            ]),
        );
        assert_eq!(source.matching(&s("srv01")).items().len(), 1);
        assert_eq!(source.not_matching(&s("srv01")).items().len(), 2);
    }

    #[test]
    fn match_by_swarm_stack_service() {
        let source = list(
            ListKind::CONTAINERS,
            serde_json::json!([
                {"id": "1", "labels": {"com.docker.swarm.service.name": "st01_srv01", "com.docker.stack.namespace": "st01"}},
                {"id": "2", "labels": {"com.docker.swarm.service.name": "st01_srv01", "com.docker.stack.namespace": "st01"}},
                {"id": "3", "labels": {}}
            ]),
        );
        assert_eq!(source.matching(&s("srv01")).items().len(), 2);
        assert_eq!(source.not_matching(&s("srv01")).items().len(), 1);

        let source = list(
            ListKind::SERVICES,
            serde_json::json!([
                {"id": "1", "name": "st01_srv01", "labels": {"com.docker.stack.namespace": "st01"}},
                {"id": "2", "name": "srv02", "labels": {}},
                {"id": "3", "name": "srv03", "labels": {}}
            ]),
        );
        assert_eq!(source.matching(&s("srv01")).items().len(), 1);
        assert_eq!(source.not_matching(&s("srv01")).items().len(), 2);
    }

    #[test]
    fn match_task_by_container_id() {
        let source = list(
            ListKind::TASKS,
            serde_json::json!([
                {"id": "1", "container_id": "cc001", "labels": {}},
                {"id": "2", "container_id": "cc002", "labels": {}},
                {"id": "3", "container_id": "cc003", "labels": {}}
            ]),
        );
        assert_eq!(source.matching(&s("cc002")).items().len(), 1);
        assert_eq!(source.not_matching(&s("cc002")).items().len(), 2);
    }

    #[test]
    fn match_task_by_service_id() {
        let source = list(
            ListKind::TASKS,
            serde_json::json!([
                {"id": "1", "service_id": "srv001", "labels": {}},
                {"id": "2", "service_id": "srv002", "labels": {}},
                {"id": "3", "service_id": "srv003", "labels": {}}
            ]),
        );
        assert_eq!(source.matching(&s("srv002")).items().len(), 1);
        assert_eq!(source.not_matching(&s("srv002")).items().len(), 2);
    }

    #[test]
    fn match_task_by_service_name() {
        let source = list(
            ListKind::TASKS,
            serde_json::json!([
                {"id": "1", "labels": {"com.docker.swarm.service.name": "srv001"}},
                {"id": "2", "labels": {"com.docker.swarm.service.name": "srv002"}},
                {"id": "3", "labels": {"com.docker.swarm.service.name": "srv003"}}
            ]),
        );
        assert_eq!(source.matching(&s("srv002")).items().len(), 1);
        assert_eq!(source.not_matching(&s("srv002")).items().len(), 2);
    }

    #[test]
    fn match_task_by_stack_service_name() {
        let source = list(
            ListKind::TASKS,
            serde_json::json!([
                {"id": "1", "labels": {"com.docker.swarm.service.name": "st01_srv001", "com.docker.stack.namespace": "st01"}},
                {"id": "2", "labels": {"com.docker.swarm.service.name": "st01_srv002", "com.docker.stack.namespace": "st01"}},
                {"id": "3", "labels": {"com.docker.swarm.service.name": "st02_srv001", "com.docker.stack.namespace": "st02"}}
            ]),
        );
        assert_eq!(source.matching(&s("srv002")).items().len(), 1);
        assert_eq!(source.not_matching(&s("srv002")).items().len(), 2);
    }

    #[test]
    fn match_task_by_status() {
        let source = list(
            ListKind::TASKS,
            serde_json::json!([
                {"id": "1", "status": "running", "labels": {}},
                {"id": "2", "status": "running", "labels": {}},
                {"id": "3", "status": "stopped", "labels": {}}
            ]),
        );
        assert_eq!(source.with_attr("status", "running").items().len(), 2);
        assert_eq!(source.with_attr("status", "stopped").items().len(), 1);
        assert_eq!(source.with_attr("status", "RUNNING").items().len(), 2);
    }

    #[test]
    fn match_network_against_container_networks() {
        let source = list(
            ListKind::NETWORKS,
            serde_json::json!([{"id": "n01"}, {"id": "n02"}, {"id": "n03"}]),
        );
        let target = Value::from(Serde(
            serde_json::json!({"id": "c01", "networks": [{"id": "n01"}]}),
        ));
        assert_eq!(ids(&source.matching(&target)), ["n01"]);
    }

    #[test]
    fn match_network_against_network() {
        let source = list(
            ListKind::NETWORKS,
            serde_json::json!([{"id": "n01"}, {"id": "n02"}, {"id": "n03"}]),
        );
        let target = Value::from(Serde(serde_json::json!({"id": "n02"})));
        assert_eq!(ids(&source.matching(&target)), ["n02"]);
    }

    #[test]
    fn match_networks_against_networks() {
        let source = list(
            ListKind::NETWORKS,
            serde_json::json!([{"id": "n01"}, {"id": "n02"}, {"id": "n03"}, {"id": "ii", "name": "ingress"}]),
        );
        let target = list(
            ListKind::NETWORKS,
            serde_json::json!([{"id": "n02"}, {"id": "n03"}, {"id": "n04"}, {"id": "ii", "name": "ingress"}]),
        )
        .into_value();
        let found = source.not_matching(&s("ingress")).matching(&target);
        assert_eq!(ids(&found), ["n02", "n03"]);
        // The same through a template, with `.first` and `.last`.
        let ctx = context! { source => source.into_value(), target };
        let expr = "source.not_matching('ingress').matching(target)";
        assert_eq!(eval(&format!("{expr}|length"), ctx.clone()), Value::from(2));
        assert_eq!(
            eval(&format!("{expr}.first.id"), ctx.clone()),
            Value::from("n02")
        );
        assert_eq!(eval(&format!("{expr}.last.id"), ctx), Value::from("n03"));
    }

    #[test]
    fn keeps_list_types() {
        let kind = |v: Value| v.downcast_object_ref::<List>().map(|l| l.kind());
        let containers = list(
            ListKind::CONTAINERS,
            serde_json::json!([{"id": "abc", "health": "healthy", "labels": {}}, {"id": "def", "health": "unhealthy", "labels": {}}]),
        )
        .into_value();
        let services = list(
            ListKind::SERVICES,
            serde_json::json!([{"id": "abc", "labels": {}}, {"id": "def", "labels": {}}]),
        )
        .into_value();
        let tasks = list(
            ListKind::TASKS,
            serde_json::json!([{"id": "abc", "status": "running", "labels": {}}, {"id": "def", "status": "shutdown", "labels": {}}]),
        )
        .into_value();
        let networks = list(
            ListKind::NETWORKS,
            serde_json::json!([{"id": "abc"}, {"id": "def"}]),
        )
        .into_value();
        let ctx = context! { containers, services, tasks, networks };
        for (expr, expected) in [
            ("containers.matching('abc')", ListKind::CONTAINERS),
            ("containers.healthy", ListKind::CONTAINERS),
            ("containers.with_health('unhealthy')", ListKind::CONTAINERS),
            ("services.matching('abc')", ListKind::SERVICES),
            ("tasks.matching('abc')", ListKind::TASKS),
            ("tasks.with_status('running')", ListKind::TASKS),
            ("networks.matching('abc')", ListKind::NETWORKS),
            ("containers.not_matching('abc')", ListKind::CONTAINERS),
        ] {
            let value = eval(expr, ctx.clone());
            assert_eq!(kind(value.clone()), Some(expected), "{expr}");
            assert_eq!(value.len(), Some(1), "{expr}");
        }
    }

    #[test]
    fn match_self_container_id() {
        let items = list_own(
            ListKind::CONTAINERS,
            serde_json::json!([{"id": "abcd1234", "labels": {}}, {"id": "defg5678", "labels": {}}]),
            Some("abcd1234"),
        );
        assert_eq!(
            eval("items.self.id", context! { items => items.into_value() }),
            Value::from("abcd1234")
        );
    }

    #[test]
    fn match_self_task_id() {
        let items = list_own(
            ListKind::TASKS,
            serde_json::json!([
                {"id": "t1", "container_id": "abcd1234", "labels": {}},
                {"id": "t2", "container_id": "defg5678", "labels": {}}
            ]),
            Some("abcd1234"),
        );
        assert_eq!(
            eval("items.self.id", context! { items => items.into_value() }),
            Value::from("t1")
        );
    }

    #[test]
    fn match_self_service_task_id() {
        let tasks = |id: &str, cid: &str| {
            list(
                ListKind::TASKS,
                serde_json::json!([{"id": id, "container_id": cid, "labels": {}}]),
            )
            .into_value()
        };
        let services = List::new(
            ListKind::SERVICES,
            vec![
                context! { id => "s1", tasks => tasks("t1", "abcd1234") },
                context! { id => "s2", tasks => tasks("t2", "defg5678") },
            ],
            Some(Arc::from("abcd1234")),
        );
        assert_eq!(
            eval("items.self.id", context! { items => services.into_value() }),
            Value::from("s1")
        );
    }

    #[test]
    fn self_is_none_without_an_own_id() {
        // docker-pygen's B13: without an id, ServiceList.self returned a service with a
        // pending task (container_id None). pygen gives none for every list type.
        let tasks = list(
            ListKind::TASKS,
            serde_json::json!([{"id": "t1", "labels": {}}]),
        )
        .into_value();
        let services = List::new(
            ListKind::SERVICES,
            vec![context! { id => "s1", tasks => tasks.clone() }],
            None,
        )
        .into_value();
        let containers =
            list(ListKind::CONTAINERS, serde_json::json!([{"id": "abc"}])).into_value();
        let ctx = context! { services, tasks, containers };
        for expr in ["services.self", "tasks.self", "containers.self"] {
            assert!(eval(expr, ctx.clone()).is_none(), "{expr}");
        }
    }

    #[test]
    fn first_last_first_value_and_indexing() {
        let items = List::plain(vec![
            Value::from(0),
            Value::from(""),
            Value::from(()),
            Value::from(7),
            Value::from(9),
        ])
        .into_value();
        let empty = List::plain(vec![]).into_value();
        let ctx = context! { items, empty };
        assert_eq!(eval("items.first", ctx.clone()), Value::from(0));
        assert_eq!(eval("items.last", ctx.clone()), Value::from(9));
        assert_eq!(eval("items.first_value", ctx.clone()), Value::from(7));
        assert_eq!(eval("items[-2]", ctx.clone()), Value::from(7));
        assert_eq!(eval("items[3]", ctx.clone()), Value::from(7));
        assert_eq!(eval("items|length", ctx.clone()), Value::from(5));
        assert_eq!(eval("items|list|length", ctx.clone()), Value::from(5));
        assert!(eval("empty.first", ctx.clone()).is_none());
        assert!(eval("empty.last", ctx.clone()).is_none());
        assert!(eval("empty.first_value", ctx.clone()).is_none());
        assert_eq!(eval("empty or 'falsy'", ctx.clone()), Value::from("falsy"));
        assert_eq!(eval("7 in items", ctx.clone()), Value::from(true));
        assert_eq!(eval("8 in items", ctx), Value::from(false));
    }

    #[test]
    fn plain_lists_have_no_matching() {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        let items = List::plain(vec![Value::from("a")]).into_value();
        let err = env
            .render_str("{{ items.matching('a') }}", context! { items })
            .expect_err("plain lists cannot match");
        assert_eq!(err.kind(), ErrorKind::UnknownMethod);
    }

    #[test]
    fn not_matching_keeps_list_order() {
        let source = list(
            ListKind::NODES,
            serde_json::json!([{"id": "a1", "name": "x"}, {"id": "b2"}, {"id": "c3", "name": "b"}, {"id": "d4"}]),
        );
        // "b" matches c3 by name (rule 1) and b2 by prefix (rule 2).
        assert_eq!(ids(&source.matching(&s("b"))), ["c3", "b2"]);
        assert_eq!(ids(&source.not_matching(&s("b"))), ["a1", "d4"]);
        assert!(source.matching(&s("")).items().is_empty());
        assert_eq!(source.not_matching(&s("")).items().len(), 4);
        // Non-string targets match nothing outside network lists.
        assert!(source.matching(&Value::from(1)).items().is_empty());
    }
}
