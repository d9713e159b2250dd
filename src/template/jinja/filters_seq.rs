//! Jinja2's filters over lists and dicts with Jinja2's arguments: `sort`, `unique`, `min`,
//! `max` (`case_sensitive`, `attribute` paths, multi-attribute sort keys), `dictsort`
//! (`by`, `reverse`), `groupby` (`default`, index paths, groups as `(grouper, list)` tuples
//! named like Jinja2's), `batch` (`fill_with`), `default` (`boolean`), `random`.

use std::collections::HashSet;
use std::sync::Arc;

use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Rest, Tuple, Value, ValueOrKwargs};
use minijinja::{Environment, Error, ErrorKind, State};

use super::filters::{
    Args, AttrGetter, items_of, lower_if_string, py_eq, sort_by_key, sort_keyed, type_error,
};

/// Registers the list and dict filters.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("sort", sort);
    env.add_filter("unique", unique);
    env.add_filter("min", min);
    env.add_filter("max", max);
    env.add_filter("dictsort", dictsort);
    env.add_filter("groupby", groupby);
    env.add_filter("batch", batch);
    env.add_filter("default", default);
    env.add_filter("d", default);
    env.add_filter("random", random);
    env.add_filter("map", map);
    env.add_filter("list", list);
    env.add_filter("join", join);
}

/// `list`: the items as a list (a string's characters, a dict's keys).
fn list(value: &Value) -> Result<Value, Error> {
    Ok(Value::from(items_of(value)?))
}

/// `join(d='', attribute=none)`: the items' text joined with `d`.
fn join(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("join", &args.into_values(), &["d", "attribute"])?;
    let sep = match args.get(0) {
        Some(d) => super::filters::string_of(d)?,
        None => String::new(),
    };
    let getter = AttrGetter::new(args.get(1), None, false);
    let items = items_of(value)?;
    let mut parts = Vec::with_capacity(items.len());
    for item in &items {
        parts.push(super::filters::string_of(&getter.get(item))?);
    }
    Ok(Value::from(parts.join(&sep)))
}

/// `map(filter, *args, **kwargs)` applies a filter to each item; `map(attribute=path,
/// default=none)` takes an attribute path of each item.
fn map(state: &mut State, value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
        _ => (&args[..], None),
    };
    let mut named: Vec<(String, Value)> = Vec::new();
    if let Some(kwargs) = kwargs {
        for key in kwargs.try_iter()? {
            let item = kwargs.get_item(&key)?;
            named.push((key.as_str().unwrap_or_default().to_owned(), item));
        }
    }
    let items = items_of(value)?;
    if positional.is_empty() && named.iter().any(|(k, _)| k == "attribute") {
        let mut attribute = None;
        let mut default = None;
        for (key, item) in named {
            match key.as_str() {
                "attribute" => attribute = Some(item),
                "default" => default = Some(item),
                other => {
                    return Err(Error::new(
                        ErrorKind::TooManyArguments,
                        format!("Unexpected keyword argument '{other}'"),
                    ));
                }
            }
        }
        let getter = AttrGetter::new(attribute.as_ref(), default.filter(|d| !d.is_none()), false);
        return Ok(Value::from(
            items.iter().map(|i| getter.get(i)).collect::<Vec<_>>(),
        ));
    }
    let Some((name, rest)) = positional.split_first() else {
        return Err(Error::new(
            ErrorKind::MissingArgument,
            "map requires a filter argument",
        ));
    };
    let name = name.as_str().unwrap_or_default();
    let mut call: Vec<Value> = Vec::with_capacity(rest.len() + 2);
    call.push(Value::UNDEFINED);
    call.extend(rest.iter().cloned());
    if !named.is_empty() {
        call.push(Value::from(named.into_iter().collect::<Kwargs>()));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        call[0] = item;
        out.push(state.apply_filter(name, &call)?);
    }
    Ok(Value::from(out))
}

/// `sort(reverse=false, case_sensitive=false, attribute=none)`; `attribute` may name
/// several comma-separated paths, compared in turn.
fn sort(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind(
        "sort",
        &args.into_values(),
        &["reverse", "case_sensitive", "attribute"],
    )?;
    let reverse = args.flag(0, false);
    let ignore_case = !args.flag(1, false);
    let items = items_of(value)?;
    let getters: Vec<AttrGetter> = match args.get(2).and_then(Value::as_str) {
        Some(paths) if paths.contains(',') => paths
            .split(',')
            .map(|p| AttrGetter::new(Some(&Value::from(p)), None, ignore_case))
            .collect(),
        _ => vec![AttrGetter::new(args.get(2), None, ignore_case)],
    };
    let sorted = if getters.len() == 1 {
        sort_by_key(items, |i| getters[0].get(i), reverse)?
    } else {
        sort_by_key(
            items,
            |i| Value::from(getters.iter().map(|g| g.get(i)).collect::<Vec<_>>()),
            reverse,
        )?
    };
    Ok(Value::from(sorted))
}

/// `unique(case_sensitive=false, attribute=none)`: first occurrences, in order.
fn unique(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind(
        "unique",
        &args.into_values(),
        &["case_sensitive", "attribute"],
    )?;
    let getter = AttrGetter::new(args.get(1), None, !args.flag(0, false));
    let mut seen: HashSet<Value> = HashSet::new();
    let mut seen_other: Vec<Value> = Vec::new();
    let mut out = Vec::new();
    for item in items_of(value)? {
        let key = getter.get(&item);
        let new = if key.is_number() || key.kind() == minijinja::value::ValueKind::Bool {
            // 1, 1.0 and True are one key in Python.
            if seen_other.iter().any(|k| py_eq(k, &key)) {
                false
            } else {
                seen_other.push(key);
                true
            }
        } else {
            seen.insert(key)
        };
        if new {
            out.push(item);
        }
    }
    Ok(Value::from(out))
}

/// `min`/`max(case_sensitive=false, attribute=none)`: the first smallest (largest) item,
/// undefined for an empty sequence.
fn min_or_max(
    what: &str,
    value: &Value,
    args: &[Value],
    want: std::cmp::Ordering,
) -> Result<Value, Error> {
    let args = Args::bind(what, args, &["case_sensitive", "attribute"])?;
    let getter = AttrGetter::new(args.get(1), None, !args.flag(0, false));
    let mut best: Option<(Value, Value)> = None;
    for item in items_of(value)? {
        let key = getter.get(&item);
        let better = match &best {
            None => true,
            Some((best_key, _)) => super::filters::py_cmp(&key, best_key)? == want,
        };
        if better {
            best = Some((key, item));
        }
    }
    Ok(best.map(|(_, item)| item).unwrap_or(Value::UNDEFINED))
}

fn min(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    min_or_max("min", value, &args.into_values(), std::cmp::Ordering::Less)
}

fn max(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    min_or_max(
        "max",
        value,
        &args.into_values(),
        std::cmp::Ordering::Greater,
    )
}

/// The `(key, value)` pairs of a mapping, in its order.
fn pairs_of(value: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if value.is_undefined() || value.is_none() {
        return Ok(Vec::new());
    }
    let mut pairs = Vec::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        pairs.push((key, item));
    }
    Ok(pairs)
}

/// `dictsort(case_sensitive=false, by='key', reverse=false)`: the items as `(key, value)`
/// tuples, sorted.
fn dictsort(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind(
        "dictsort",
        &args.into_values(),
        &["case_sensitive", "by", "reverse"],
    )?;
    let ignore_case = !args.flag(0, false);
    let position = match args
        .get(1)
        .map(|b| b.as_str().unwrap_or_default().to_owned())
    {
        None => 0,
        Some(by) if by == "key" => 0,
        Some(by) if by == "value" => 1,
        Some(_) => {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "You can only sort by either \"key\" or \"value\"",
            ));
        }
    };
    let items: Vec<Value> = pairs_of(value)?
        .into_iter()
        .map(|(k, v)| Value::from(Tuple::from(vec![k, v])))
        .collect();
    let sorted = sort_by_key(
        items,
        |pair| {
            let part = pair.get_item_by_index(position).unwrap_or_default();
            if ignore_case {
                lower_if_string(part)
            } else {
                part
            }
        },
        args.flag(2, false),
    )?;
    Ok(Value::from(sorted))
}

/// One group of `groupby`: a `(grouper, list)` tuple whose parts are also reachable by
/// name, as Jinja2's `_GroupTuple`.
#[derive(Debug)]
pub(crate) struct GroupTuple {
    /// The common value of the group.
    grouper: Value,
    /// The items of the group, in sorted order.
    list: Value,
}

impl Object for GroupTuple {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str() {
            Some("grouper") => return Some(self.grouper.clone()),
            Some("list") => return Some(self.list.clone()),
            _ => {}
        }
        match key.as_i64()? {
            0 | -2 => Some(self.grouper.clone()),
            1 | -1 => Some(self.list.clone()),
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(2)
    }
}

impl GroupTuple {
    /// Whether `value` is a group (it prints as a tuple).
    pub(crate) fn parts(value: &Value) -> Option<(Value, Value)> {
        value
            .downcast_object_ref::<GroupTuple>()
            .map(|g| (g.grouper.clone(), g.list.clone()))
    }
}

/// `groupby(attribute, default=none, case_sensitive=false)`: groups of consecutive items
/// with the same attribute after sorting by it; without `case_sensitive` the grouper is the
/// first item's own value.
fn groupby(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind(
        "groupby",
        &args.into_values(),
        &["attribute", "default", "case_sensitive"],
    )?;
    let Some(attribute) = args.get(0) else {
        return Err(type_error(
            "groupby() missing 1 required positional argument: 'attribute'",
        ));
    };
    let case_sensitive = args.flag(2, false);
    let key = AttrGetter::new(Some(attribute), args.get(1).cloned(), !case_sensitive);
    let shown = AttrGetter::new(Some(attribute), args.get(1).cloned(), false);
    let keyed = items_of(value)?
        .into_iter()
        .map(|i| (key.get(&i), i))
        .collect();
    let mut groups: Vec<(Value, Vec<Value>)> = Vec::new();
    for (k, item) in sort_keyed(keyed, false)? {
        match groups.last_mut() {
            Some((last, members)) if py_eq(last, &k) => members.push(item),
            _ => groups.push((k, vec![item])),
        }
    }
    Ok(Value::from(
        groups
            .into_iter()
            .map(|(k, members)| {
                let grouper = if case_sensitive {
                    k
                } else {
                    shown.get(&members[0])
                };
                Value::from_object(GroupTuple {
                    grouper,
                    list: Value::from(members),
                })
            })
            .collect::<Vec<_>>(),
    ))
}

/// `batch(linecount, fill_with=none)`: lists of `linecount` items, the last one filled up
/// when `fill_with` is given.
fn batch(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("batch", &args.into_values(), &["linecount", "fill_with"])?;
    let count = usize::try_from(args.int(0, "batch", 0)?)
        .unwrap_or(0)
        .max(1);
    let mut rows: Vec<Value> = Vec::new();
    let mut row: Vec<Value> = Vec::new();
    for item in items_of(value)? {
        if row.len() == count {
            rows.push(Value::from(std::mem::take(&mut row)));
        }
        row.push(item);
    }
    if !row.is_empty() {
        if let Some(fill) = args.get(1).filter(|f| !f.is_none()) {
            row.resize(count, fill.clone());
        }
        rows.push(Value::from(row));
    }
    Ok(Value::from(rows))
}

/// `default(default_value='', boolean=false)`: the value, or `default_value` when it is
/// undefined (or, with `boolean`, false).
fn default(value: &Value, args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind(
        "default",
        &args.into_values(),
        &["default_value", "boolean"],
    )?;
    if value.is_undefined() || (args.flag(1, false) && !value.is_true()) {
        Ok(args.value_or(0, Value::from("")))
    } else {
        Ok(value.clone())
    }
}

/// `random`: a random item; undefined for an empty sequence.
fn random(_state: &State, value: &Value) -> Result<Value, Error> {
    let items = items_of(value)?;
    if items.is_empty() {
        return Ok(Value::UNDEFINED);
    }
    let at = super::globals::random_below(items.len() as u64);
    Ok(items[usize::try_from(at).unwrap_or(0)].clone())
}
