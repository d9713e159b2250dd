//! The dict semantics templates rely on (docker-pygen's `EnhancedDict`), as minijinja map
//! objects: labels and env of a [`Container`] (packed once per container object), and small
//! built maps (network entries, `ports`, mounts, `raw`).
//!
//! Lookup is exact key first, then the first key equal ignoring case. Attribute access
//! (`labels.missing`) and subscripts (`labels['missing']`) fall back to a per-map default
//! (`''` for labels/env, `none` for model objects), as docker-pygen's `__getattr__` does.
//! minijinja's own `in` would look the key up and so always be true; templates' `in` is
//! routed to Python's exact key test by the template pre-pass instead.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectExt, ObjectRepr, Value, from_args};
use minijinja::{Error, ErrorKind, State};

use crate::model::Container;

/// What attribute access gives for a key the map does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// `''`: labels and env, so `{{ labels.nope }}` prints nothing.
    Empty,
    /// `none`: model objects, printed as `None` like docker-pygen does.
    None,
    /// Undefined: plain data (`raw`), as a plain Python dict would raise.
    Undefined,
}

impl Missing {
    /// The value attribute access returns for a missing key.
    fn value(self) -> Option<Value> {
        match self {
            Missing::Empty => Some(Value::from("")),
            Missing::None => Some(Value::from(())),
            Missing::Undefined => None,
        }
    }
}

/// Whether two keys are equal ignoring case (Python's `a.lower() == b.lower()`).
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// Index of `key` among `keys`: exact match first, then the first match ignoring case.
pub(crate) fn find_key<'a>(
    keys: impl Iterator<Item = &'a str> + Clone,
    key: &str,
) -> Option<usize> {
    keys.clone()
        .position(|k| k == key)
        .or_else(|| keys.into_iter().position(|k| eq_ignore_case(k, key)))
}

/// Python's `dict.get(key, default=None)`: exact key only.
fn dict_get(found: Option<Value>, args: &[Value]) -> Result<Value, Error> {
    let (_, default): (&Value, Option<Value>) = from_args(args)?;
    Ok(found.unwrap_or_else(|| default.unwrap_or(Value::from(()))))
}

/// Which string pairs of a container a [`StrMap`] shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// `Config.Labels`.
    Labels,
    /// `Config.Env`.
    Env,
}

/// Labels or env as a template map. A container's pairs are packed into one copy, made once
/// per object (a container's object lives across renders while the container is unchanged): a
/// lookup reads two small blocks instead of one allocation per key, and at ten thousand
/// containers groupby over a label is bound by memory reads, not by comparisons. A Swarm
/// object's pairs are read in place: its maps are made per access, where a copy would cost
/// more than it saves.
#[derive(Debug)]
pub(crate) struct StrMap {
    /// Where the pairs live.
    pairs: Pairs,
    /// Whether every key is ASCII: then a key differing in length cannot match ignoring
    /// case, and the lookup of a missing label (most containers lack most labels a template
    /// groups by) reads no other key's text.
    ascii_keys: bool,
}

/// The pairs of a [`StrMap`].
#[derive(Debug)]
enum Pairs {
    /// A container's pairs, packed.
    Packed {
        /// Every key and value, one after the other, in the pairs' order.
        text: Box<str>,
        /// Per pair, where its key ends and where its value ends in `text`.
        ends: Box<[(usize, usize)]>,
    },
    /// Pairs shared with a Swarm object (service, task or node labels, task env).
    Shared(Arc<[(Box<str>, Box<str>)]>),
}

impl StrMap {
    /// A map of the labels or env of `container`; missing attributes give `''`.
    pub(crate) fn new(container: &Container, part: Part) -> StrMap {
        let pairs = match part {
            Part::Labels => container.labels(),
            Part::Env => container.env(),
        };
        let size = pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
        let mut text = String::with_capacity(size);
        let mut ends = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            text.push_str(key);
            let key_end = text.len();
            text.push_str(value);
            ends.push((key_end, text.len()));
        }
        StrMap {
            ascii_keys: pairs.iter().all(|(k, _)| k.is_ascii()),
            pairs: Pairs::Packed {
                text: text.into_boxed_str(),
                ends: ends.into_boxed_slice(),
            },
        }
    }

    /// A map view of shared pairs (labels or env of a Swarm object), read in place; missing
    /// attributes give `''`.
    pub(crate) fn shared(pairs: Arc<[(Box<str>, Box<str>)]>) -> StrMap {
        StrMap {
            ascii_keys: pairs.iter().all(|(k, _)| k.is_ascii()),
            pairs: Pairs::Shared(pairs),
        }
    }

    /// The number of pairs.
    fn len(&self) -> usize {
        match &self.pairs {
            Pairs::Packed { ends, .. } => ends.len(),
            Pairs::Shared(pairs) => pairs.len(),
        }
    }

    /// The key of pair `i`.
    fn key(&self, i: usize) -> &str {
        match &self.pairs {
            Pairs::Packed { text, ends } => {
                // Pair `i` starts where the pair before it ends.
                let start = i.checked_sub(1).map_or(0, |before| ends[before].1);
                &text[start..ends[i].0]
            }
            Pairs::Shared(pairs) => &pairs[i].0,
        }
    }

    /// The value of pair `i`.
    fn value(&self, i: usize) -> &str {
        match &self.pairs {
            Pairs::Packed { text, ends } => {
                let (key_end, end) = ends[i];
                &text[key_end..end]
            }
            Pairs::Shared(pairs) => &pairs[i].1,
        }
    }

    /// The keys, in order.
    fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        (0..self.len()).map(|i| self.key(i))
    }

    /// Exact lookup, as the matching rules and `dict.get` use.
    pub(crate) fn get_exact(&self, key: &str) -> Option<&str> {
        self.position_exact(key).map(|i| self.value(i))
    }

    /// The pair whose key is `key` exactly (a key of another length is not compared).
    fn position_exact(&self, key: &str) -> Option<usize> {
        (0..self.len()).find(|&i| self.key(i) == key)
    }

    /// Exact, then case-insensitive lookup.
    fn lookup(&self, key: &str) -> Option<Value> {
        let at = if self.ascii_keys && key.is_ascii() {
            self.position_exact(key).or_else(|| {
                // ASCII lowercasing keeps the length: other lengths cannot match.
                (0..self.len()).find(|&i| {
                    let k = self.key(i);
                    k.len() == key.len() && k.eq_ignore_ascii_case(key)
                })
            })
        } else {
            find_key(self.keys(), key)
        };
        at.map(|i| Value::from(self.value(i)))
    }
}

impl Object for StrMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.lookup(key).or_else(|| Missing::Empty.value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_key_value_enumerator(|this| {
            Box::new(
                (0..this.len()).map(|i| (Value::from(this.key(i)), Value::from(this.value(i)))),
            )
        })
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" => {
                let found = args
                    .first()
                    .and_then(Value::as_str)
                    .and_then(|k| self.get_exact(k))
                    .map(Value::from);
                dict_get(found, args)
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A small map built for a template: a network entry, `ports`, a mount, a published port,
/// or the top level of `raw`. Keys keep their insertion order.
#[derive(Debug)]
pub(crate) struct Dict {
    /// Key/value pairs; every key is a string value.
    entries: Vec<(Value, Value)>,
    /// What attribute access gives for a missing key.
    missing: Missing,
}

impl Dict {
    /// A map of `entries` whose missing attributes give `missing`.
    pub(crate) fn new(entries: Vec<(Value, Value)>, missing: Missing) -> Dict {
        Dict { entries, missing }
    }

    /// A map with static keys, the usual shape of model objects.
    pub(crate) fn from_static(
        entries: impl IntoIterator<Item = (&'static str, Value)>,
        missing: Missing,
    ) -> Dict {
        Dict::new(
            entries
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
            missing,
        )
    }

    /// Exact lookup.
    pub(crate) fn get_exact(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Exact, then case-insensitive lookup.
    fn lookup(&self, key: &str) -> Option<Value> {
        find_key(
            self.entries.iter().map(|(k, _)| k.as_str().unwrap_or("")),
            key,
        )
        .map(|i| self.entries[i].1.clone())
    }
}

impl Object for Dict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.lookup(key).or_else(|| self.missing.value())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        self.mapped_key_value_enumerator(|this| {
            Box::new(this.entries.iter().map(|(k, v)| (k.clone(), v.clone())))
        })
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.entries.len())
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "get" => {
                let found = args
                    .first()
                    .and_then(Value::as_str)
                    .and_then(|k| self.get_exact(k))
                    .cloned();
                dict_get(found, args)
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// Exact string lookup in any template map: the model maps directly, other maps (plain
/// data) through subscripting. Used by the matching rules, which compare exactly.
pub(crate) fn map_get_exact(map: &Value, key: &str) -> Option<String> {
    if let Some(m) = map.downcast_object_ref::<StrMap>() {
        return m.get_exact(key).map(str::to_owned);
    }
    if let Some(d) = map.downcast_object_ref::<Dict>() {
        return d.get_exact(key).and_then(Value::as_str).map(str::to_owned);
    }
    map.as_object()?;
    map.get_item(&Value::from(key))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::{Environment, context};

    fn env() -> Environment<'static> {
        let mut env = Environment::new();
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env
    }

    fn render(template: &str, ctx: Value) -> String {
        env()
            .render_str(template, ctx)
            .unwrap_or_else(|e| format!("ERROR {e}"))
    }

    fn container() -> Arc<Container> {
        let raw = r#"{"Id":"c1","Config":{
            "Labels":{"Foo":"upper","foo":"lower","items":"a label","com.example.x":"dotted"},
            "Env":["PATH=/bin","Mixed_Case=yes","NOEQ"]}}"#;
        Arc::new(Container::from_inspect_json(raw).expect("valid"))
    }

    fn labels() -> Value {
        Value::from_object(StrMap::new(&container(), Part::Labels))
    }

    fn env_map() -> Value {
        Value::from_object(StrMap::new(&container(), Part::Env))
    }

    #[test]
    fn attribute_access_exact_then_case_insensitive_then_empty() {
        let ctx = context! { labels => labels(), env => env_map() };
        assert_eq!(
            render(
                "{{ labels.Foo }}|{{ labels.foo }}|{{ labels.FOO }}",
                ctx.clone()
            ),
            "upper|lower|upper"
        );
        assert_eq!(render("[{{ labels.missing }}]", ctx.clone()), "[]");
        assert_eq!(
            render("{{ env.path }}|{{ env.mixed_case }}|[{{ env.NOEQ }}]", ctx),
            "/bin|yes|[]"
        );
    }

    /// Keys outside ASCII take the general case-insensitive comparison: the Kelvin sign
    /// lowercases to a plain `k` (one byte from three), so lengths alone cannot rule it out.
    #[test]
    fn non_ascii_keys_compare_ignoring_case() {
        let raw = r#"{"Id":"c1","Config":{"Labels":{"\u212Aey":"kelvin","Straße":"street"}}}"#;
        let container = Arc::new(Container::from_inspect_json(raw).expect("valid"));
        let ctx = context! { labels => Value::from_object(StrMap::new(&container, Part::Labels)) };
        assert_eq!(
            render(
                "{{ labels.key }}|{{ labels['STRAßE'] }}|{{ labels['straße'] }}|[{{ labels.kex }}]",
                ctx
            ),
            "kelvin|street|street|[]"
        );
    }

    /// `in` is Python's exact key test (the pre-pass routes it), not fooled by the default
    /// that attribute and subscript lookups fall back to.
    #[test]
    fn in_is_not_fooled_by_the_default() {
        let ctx = context! { labels => labels() };
        assert_eq!(
            super::super::render_for_test(
                "{{ 'foo' in labels }} {{ 'FOO' in labels }} {{ 'nope' in labels }} {{ 'nope' not in labels }}",
                ctx
            ),
            "True False False True"
        );
    }

    #[test]
    fn subscripts_reach_dotted_and_method_named_keys() {
        let ctx = context! { labels => labels() };
        assert_eq!(
            render(
                "{{ labels['com.example.x'] }}|{{ labels['items'] }}|[{{ labels['nope'] }}]",
                ctx
            ),
            "dotted|a label|[]"
        );
    }

    #[test]
    fn dict_methods_and_filters() {
        let ctx = context! { labels => labels(), env => env_map() };
        assert_eq!(
            render(
                "{% for k, v in env.items() %}{{ k }}={{ v }};{% endfor %}",
                ctx.clone()
            ),
            "PATH=/bin;Mixed_Case=yes;NOEQ=;"
        );
        assert_eq!(
            render("{{ env.keys()|list|join(',') }}", ctx.clone()),
            "PATH,Mixed_Case,NOEQ"
        );
        assert_eq!(
            render("{{ env|length }} {{ labels|length }}", ctx.clone()),
            "3 4"
        );
        assert_eq!(
            render(
                "{% for k, v in labels|dictsort(case_sensitive=true) %}{{ k }};{% endfor %}",
                ctx.clone()
            ),
            "Foo;com.example.x;foo;items;"
        );
        assert_eq!(
            render("{{ env|tojson }}", ctx.clone()),
            r#"{"PATH": "/bin", "Mixed_Case": "yes", "NOEQ": ""}"#
        );
        // `get` is Python's dict.get: exact key, `none` or the given default otherwise.
        assert_eq!(
            render(
                "{{ labels.get('foo') }}|{{ labels.get('FOO') }}|{{ labels.get('FOO', 'd') }}",
                ctx.clone()
            ),
            "lower|None|d"
        );
        // B24: escaping a map does not crash.
        assert!(render("{{ labels|e }}", ctx).contains("upper"));
    }

    #[test]
    fn dict_defaults_to_none_and_compares_by_content() {
        let d = || {
            Value::from_object(Dict::from_static(
                [("id", Value::from("n1")), ("Name", Value::from("net"))],
                Missing::None,
            ))
        };
        let ctx = context! { a => d(), b => d() };
        assert_eq!(
            super::super::render_for_test(
                "{{ a.id }}|{{ a.name }}|{{ a.nope }}|{{ 'nope' in a }}",
                ctx.clone()
            ),
            "n1|net|None|False"
        );
        assert_eq!(render("{{ a == b }} {{ a == none }}", ctx), "True False");
    }

    #[test]
    fn undefined_default_for_plain_data() {
        let d = Value::from_object(Dict::from_static(
            [("Id", Value::from("x"))],
            Missing::Undefined,
        ));
        assert_eq!(
            render("{{ d.id }}|{{ d.nope is defined }}", context! { d }),
            "x|False"
        );
    }

    #[test]
    fn exact_lookup_for_matching() {
        assert_eq!(map_get_exact(&labels(), "foo").as_deref(), Some("lower"));
        assert_eq!(map_get_exact(&labels(), "FOO"), None);
        let plain = Value::from(minijinja::value::Serde(serde_json::json!({"a": "b"})));
        assert_eq!(map_get_exact(&plain, "a").as_deref(), Some("b"));
        assert_eq!(map_get_exact(&plain, "A"), None);
        assert_eq!(map_get_exact(&Value::from("str"), "a"), None);
    }
}
