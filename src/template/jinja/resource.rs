//! The model's matching rules over template values: how `matching`/`not_matching` read the id,
//! name, labels and env of an item. Containers are read from the model directly; anything else
//! (other model maps, plain data in tests and dumps) through attribute access. Kept apart from
//! the lists so that lists need not know the container object (and the container object,
//! which holds lists, does not sit in a circle with them).

use std::borrow::Cow;

use minijinja::value::Value;

use super::container::container_of;
use super::dict::map_get_exact;
use crate::model::Container;
use crate::model::matching::Resource;

/// A string attribute of a template value.
fn str_attr(value: &Value, key: &str) -> Option<Cow<'static, str>> {
    value
        .get_attr(key)
        .ok()
        .and_then(|v| v.as_str().map(|s| Cow::Owned(s.to_owned())))
}

/// Template values under the model's matching rules: containers read directly, anything else
/// (other model maps, plain data in tests and dumps) through attribute access.
impl Resource for Value {
    fn id(&self) -> Option<Cow<'_, str>> {
        match container_of(self) {
            Some(c) => Some(Cow::Borrowed(Container::id(c))),
            None => str_attr(self, "id"),
        }
    }
    fn name(&self) -> Option<Cow<'_, str>> {
        match container_of(self) {
            Some(c) => Some(Cow::Borrowed(Container::name(c))),
            None => str_attr(self, "name"),
        }
    }
    fn label(&self, key: &str) -> Option<Cow<'_, str>> {
        match container_of(self) {
            Some(c) => Container::label(c, key).map(Cow::Borrowed),
            None => map_get_exact(&self.get_attr("labels").ok()?, key).map(Cow::Owned),
        }
    }
    fn env(&self, key: &str) -> Option<Cow<'_, str>> {
        match container_of(self) {
            Some(c) => Container::env_var(c, key).map(Cow::Borrowed),
            None => map_get_exact(&self.get_attr("env").ok()?, key).map(Cow::Owned),
        }
    }
    fn field(&self, key: &str) -> Option<Cow<'_, str>> {
        match container_of(self) {
            Some(_) => None,
            None => str_attr(self, key),
        }
    }
}
