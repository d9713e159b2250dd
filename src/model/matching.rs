//! Target matching: which resources a target string names. Shared by the templates'
//! `matching`/`not_matching` (each dialect implements [`Resource`] for its values) and by the
//! restart/signal actions ([`super::match_containers`]). Pure rules over strings: no template
//! engine here.
//!
//! Rules (docker-pygen's, all exact and case-sensitive), in this order:
//! 1. id, name, label `pygen.target` or env `PYGEN_TARGET` equal to the target;
//! 2. id starts with the target (short id);
//! 3. per list type: containers by Compose service label, Swarm service name label, or
//!    stack-less Swarm service name (`<namespace>_<target>`); services by stack-less name;
//!    tasks by container id, service id, service name label, stack-less service name.
//!
//! Results come in rule order, then list order, each resource once. pygen differs from
//! docker-pygen on purpose: an empty target matches nothing (it matched everything), and
//! [`MatchPolicy::Action`] restricts the id-prefix rule (weakness B14).

use std::borrow::Cow;
use std::sync::Arc;

use super::container::Container;
use super::service::Service;

/// How the id-prefix rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchPolicy {
    /// Templates: any non-empty id prefix matches, together with the other rules (as in
    /// docker-pygen, whose test matches `112` against the id `11234`).
    Template,
    /// Restart/signal actions: an id prefix counts only when no other rule matched anything
    /// and it has at least 4 characters, so `--restart db` cannot hit a container whose id
    /// happens to start with `db`.
    Action,
}

/// The kind of resource a list holds, which decides its extra matching rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain resources (nodes): the base rules only.
    Resource,
    /// Containers: Compose and Swarm service labels.
    Container,
    /// Swarm services: stack-less service name.
    Service,
    /// Swarm tasks: container id, service id, service labels.
    Task,
    /// Networks: base rules plus object matching (done by the dialect's network lists).
    Network,
}

/// The fields the matching rules read from one resource.
pub(crate) trait Resource {
    /// The resource id.
    fn id(&self) -> Option<Cow<'_, str>>;
    /// The resource name.
    fn name(&self) -> Option<Cow<'_, str>>;
    /// A label, exact key.
    fn label(&self, key: &str) -> Option<Cow<'_, str>>;
    /// An environment variable, exact key.
    fn env(&self, key: &str) -> Option<Cow<'_, str>>;
    /// Another string field by name (`container_id`, `service_id` of tasks).
    fn field(&self, key: &str) -> Option<Cow<'_, str>>;
}

impl Resource for Container {
    fn id(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(Container::id(self)))
    }
    fn name(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(Container::name(self)))
    }
    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        Container::label(self, key).map(Cow::Borrowed)
    }
    fn env(&self, key: &str) -> Option<Cow<'_, str>> {
        self.env_var(key).map(Cow::Borrowed)
    }
    fn field(&self, _key: &str) -> Option<Cow<'_, str>> {
        None
    }
}

impl<T: Resource + ?Sized> Resource for Arc<T> {
    fn id(&self) -> Option<Cow<'_, str>> {
        (**self).id()
    }
    fn name(&self) -> Option<Cow<'_, str>> {
        (**self).name()
    }
    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        (**self).label(key)
    }
    fn env(&self, key: &str) -> Option<Cow<'_, str>> {
        (**self).env(key)
    }
    fn field(&self, key: &str) -> Option<Cow<'_, str>> {
        (**self).field(key)
    }
}

impl Resource for Service {
    fn id(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.id))
    }
    fn name(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(&self.name))
    }
    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        Service::label(self, key).map(Cow::Borrowed)
    }
    fn env(&self, _key: &str) -> Option<Cow<'_, str>> {
        None
    }
    fn field(&self, _key: &str) -> Option<Cow<'_, str>> {
        None
    }
}

/// Label naming a resource as a target explicitly.
const TARGET_LABEL: &str = "pygen.target";
/// Environment variable naming a resource as a target explicitly.
const TARGET_ENV: &str = "PYGEN_TARGET";
/// Label Compose sets to the service name.
const COMPOSE_SERVICE: &str = "com.docker.compose.service";
/// Label Swarm sets to the (stack-prefixed) service name.
const SWARM_SERVICE: &str = "com.docker.swarm.service.name";
/// Label `docker stack deploy` sets to the stack name.
const STACK_NAMESPACE: &str = "com.docker.stack.namespace";

/// Whether `full` is `<namespace>_<target>`.
fn is_stack_name(full: &str, namespace: &str, target: &str) -> bool {
    full.strip_prefix(namespace)
        .and_then(|rest| rest.strip_prefix('_'))
        == Some(target)
}

/// Rule 1: id, name, `pygen.target` label or `PYGEN_TARGET` env.
fn rule_exact<R: Resource + ?Sized>(r: &R, target: &str) -> bool {
    r.id().as_deref() == Some(target)
        || r.name().as_deref() == Some(target)
        || r.label(TARGET_LABEL).as_deref() == Some(target)
        || r.env(TARGET_ENV).as_deref() == Some(target)
}

/// Rule 2: id prefix.
fn rule_prefix<R: Resource + ?Sized>(r: &R, target: &str) -> bool {
    r.id().is_some_and(|id| id.starts_with(target))
}

/// Rule 3: the extra rules of the list kind.
fn rule_kind<R: Resource + ?Sized>(r: &R, kind: Kind, target: &str) -> bool {
    let service_label = || r.label(SWARM_SERVICE).unwrap_or_default();
    let namespace = || r.label(STACK_NAMESPACE).unwrap_or_default();
    match kind {
        Kind::Resource | Kind::Network => false,
        Kind::Container => {
            r.label(COMPOSE_SERVICE).as_deref() == Some(target)
                || service_label() == target
                || is_stack_name(&service_label(), &namespace(), target)
        }
        Kind::Service => r
            .name()
            .is_some_and(|name| is_stack_name(&name, &namespace(), target)),
        Kind::Task => {
            r.field("container_id").as_deref() == Some(target)
                || r.field("service_id").as_deref() == Some(target)
                || service_label() == target
                || is_stack_name(&service_label(), &namespace(), target)
        }
    }
}

/// Indices of the items `target` matches, in rule order then list order, each once.
pub(crate) fn matching_indices<R: Resource>(
    items: &[R],
    target: &str,
    kind: Kind,
    policy: MatchPolicy,
) -> Vec<usize> {
    let mut hits = Hits::new(items.len());
    if target.is_empty() {
        return hits.order;
    }
    hits.pass(items, |r| rule_exact(r, target));
    if policy == MatchPolicy::Template {
        hits.pass(items, |r| rule_prefix(r, target));
    }
    hits.pass(items, |r| rule_kind(r, kind, target));
    if policy == MatchPolicy::Action && hits.order.is_empty() && target.chars().count() >= 4 {
        hits.pass(items, |r| rule_prefix(r, target));
    }
    hits.order
}

/// Matched indices in the order found, with a bitmap for de-duplication.
pub(crate) struct Hits {
    /// Whether an index was already matched.
    seen: Vec<bool>,
    /// Matched indices in the order found.
    pub(crate) order: Vec<usize>,
}

impl Hits {
    /// No hits yet over a list of `len` items.
    pub(crate) fn new(len: usize) -> Hits {
        Hits {
            seen: vec![false; len],
            order: Vec::new(),
        }
    }

    /// Adds index `i` unless already there.
    pub(crate) fn add(&mut self, i: usize) {
        if let Some(seen) = self.seen.get_mut(i) {
            if !*seen {
                *seen = true;
                self.order.push(i);
            }
        }
    }

    /// One pass over the list adding the items `rule` accepts.
    fn pass<R>(&mut self, items: &[R], rule: impl Fn(&R) -> bool) {
        for (i, item) in items.iter().enumerate() {
            if !self.seen[i] && rule(item) {
                self.add(i);
            }
        }
    }

    /// Whether index `i` was matched.
    pub(crate) fn contains(&self, i: usize) -> bool {
        self.seen.get(i).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(id: &str, name: &str, labels: &[(&str, &str)], env: &[&str]) -> Arc<Container> {
        let json = serde_json::json!({
            "Id": id,
            "Name": format!("/{name}"),
            "Config": {
                "Labels": labels.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(*v))).collect::<serde_json::Map<_, _>>(),
                "Env": env,
            }
        });
        Arc::new(Container::from_inspect_json(&json.to_string()).expect("valid"))
    }

    fn ids(items: &[Arc<Container>], found: &[usize]) -> Vec<String> {
        found
            .iter()
            .map(|&i| Container::id(&items[i]).to_owned())
            .collect()
    }

    fn set() -> Vec<Arc<Container>> {
        vec![
            container("dbeef01", "web", &[(COMPOSE_SERVICE, "front")], &[]),
            container("cafe0002", "db", &[(TARGET_LABEL, "web")], &[]),
            container("abcd0003", "cache", &[], &["PYGEN_TARGET=web"]),
            container(
                "ffff0004",
                "worker",
                &[(SWARM_SERVICE, "stack_web"), (STACK_NAMESPACE, "stack")],
                &[],
            ),
        ]
    }

    #[test]
    fn rule_order_then_list_order() {
        let items = set();
        let found = matching_indices(&items, "web", Kind::Container, MatchPolicy::Template);
        assert_eq!(
            ids(&items, &found),
            ["dbeef01", "cafe0002", "abcd0003", "ffff0004"]
        );
        let found = matching_indices(&items, "front", Kind::Container, MatchPolicy::Template);
        assert_eq!(ids(&items, &found), ["dbeef01"]);
    }

    #[test]
    fn empty_target_matches_nothing() {
        let items = set();
        for policy in [MatchPolicy::Template, MatchPolicy::Action] {
            assert!(matching_indices(&items, "", Kind::Container, policy).is_empty());
        }
    }

    #[test]
    fn template_policy_unions_short_prefixes() {
        let items = set();
        // "db" is the name of cafe0002 and a prefix of dbeef01's id: both, rule order.
        let found = matching_indices(&items, "db", Kind::Container, MatchPolicy::Template);
        assert_eq!(ids(&items, &found), ["cafe0002", "dbeef01"]);
    }

    #[test]
    fn action_policy_restricts_prefixes() {
        let items = set();
        let found = matching_indices(&items, "db", Kind::Container, MatchPolicy::Action);
        assert_eq!(ids(&items, &found), ["cafe0002"]);
        // Too short on its own.
        assert!(matching_indices(&items, "ffe", Kind::Container, MatchPolicy::Action).is_empty());
        assert!(matching_indices(&items, "fff", Kind::Container, MatchPolicy::Action).is_empty());
        // Four characters and nothing else matched: the prefix counts.
        let found = matching_indices(&items, "ffff", Kind::Container, MatchPolicy::Action);
        assert_eq!(ids(&items, &found), ["ffff0004"]);
        // The full id still matches by rule 1.
        let found = matching_indices(&items, "abcd0003", Kind::Container, MatchPolicy::Action);
        assert_eq!(ids(&items, &found), ["abcd0003"]);
    }

    #[test]
    fn comparisons_are_case_sensitive() {
        let items = set();
        assert!(matching_indices(&items, "WEB", Kind::Container, MatchPolicy::Template).is_empty());
    }

    #[test]
    fn stack_rule_needs_the_namespace() {
        let items = vec![container("1", "a", &[(SWARM_SERVICE, "_svc")], &[])];
        // No namespace label: "_svc" is "<''>_svc".
        assert_eq!(
            matching_indices(&items, "svc", Kind::Container, MatchPolicy::Template),
            [0]
        );
        let items = vec![container("1", "a", &[(SWARM_SERVICE, "st_svc")], &[])];
        assert!(matching_indices(&items, "svc", Kind::Container, MatchPolicy::Template).is_empty());
        // Base lists do not use the container rules.
        let items = vec![container("1", "a", &[(COMPOSE_SERVICE, "svc")], &[])];
        assert!(matching_indices(&items, "svc", Kind::Resource, MatchPolicy::Template).is_empty());
    }
}
