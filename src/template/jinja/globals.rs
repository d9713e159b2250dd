//! Jinja2's global functions: `range` (lazy, printed as `range(0, 3)`, with no size limit as
//! in Jinja2's default environment), `lipsum(n=5, html=true, min=20, max=100)`, `cycler`
//! (`next()`, `reset()`, `current`, `items`), `joiner(sep=', ')` and `namespace` taking a
//! dict and keyword arguments; plus the random numbers `random` and `lipsum` draw from.

use std::fmt;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use minijinja::value::{
    Enumerator, Object, ObjectRepr, Rest, Tuple, Value, ValueKind, ValueOrKwargs,
};
use minijinja::{Environment, Error, ErrorKind, State};

use super::filters::{Args, type_error, type_name};

mod lipsum;

use lipsum::lipsum;

/// Registers the globals.
pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_function("range", range);
    env.add_function("lipsum", lipsum);
    env.add_function("cycler", cycler);
    env.add_function("joiner", joiner);
    env.add_function("namespace", namespace);
}

/// State of the random generator (xorshift64*), seeded from the clock on first use.
static RANDOM: AtomicU64 = AtomicU64::new(0);

/// A random number below `n` (`n > 0`); templates need no cryptographic quality.
pub(crate) fn random_below(n: u64) -> u64 {
    let mut x = RANDOM.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64);
        x = nanos | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    RANDOM.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
}

/// Python's `random.randrange(low, high)`: `low` when the range is empty is Python's error;
/// here the range is never empty by construction of the callers.
fn randrange(low: i64, high: i64) -> i64 {
    let span = u64::try_from(high.saturating_sub(low)).unwrap_or(0).max(1);
    low + i64::try_from(random_below(span)).unwrap_or(0)
}

/// Python's `range`: the numbers from `start` to `stop` by `step`, computed when read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    /// The first number.
    start: i64,
    /// The end (not included).
    stop: i64,
    /// The step, never zero.
    step: i64,
}

impl Range {
    fn len(&self) -> usize {
        let (span, step) = if self.step > 0 {
            (
                i128::from(self.stop) - i128::from(self.start),
                i128::from(self.step),
            )
        } else {
            (
                i128::from(self.start) - i128::from(self.stop),
                -i128::from(self.step),
            )
        };
        if span <= 0 {
            0
        } else {
            usize::try_from((span + step - 1) / step).unwrap_or(usize::MAX)
        }
    }

    fn at(&self, index: usize) -> i64 {
        let index = i64::try_from(index).unwrap_or(i64::MAX);
        self.start.saturating_add(index.saturating_mul(self.step))
    }
}

impl Object for Range {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Iterable
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let len = self.len();
        let index = key.as_i64()?;
        let index = if index < 0 {
            i64::try_from(len).ok()? + index
        } else {
            index
        };
        let index = usize::try_from(index).ok().filter(|i| *i < len)?;
        Some(Value::from(self.at(index)))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let range = **self;
        Enumerator::Iter(Box::new(
            (0..range.len()).map(move |i| Value::from(range.at(i))),
        ))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.len() > 0
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.step == 1 {
            write!(f, "range({}, {})", self.start, self.stop)
        } else {
            write!(f, "range({}, {}, {})", self.start, self.stop, self.step)
        }
    }
}

/// An integer argument of `range`.
fn range_arg(value: &Value) -> Result<i64, Error> {
    match value.kind() {
        ValueKind::Bool => Ok(i64::from(value.is_true())),
        ValueKind::Number if value.is_integer() => value
            .as_i64()
            .ok_or_else(|| type_error("range() argument is too large")),
        _ => Err(type_error(format!(
            "'{}' object cannot be interpreted as an integer",
            type_name(value)
        ))),
    }
}

/// `range([start,] stop[, step])`.
fn range(args: Rest<Value>) -> Result<Value, Error> {
    let numbers = args.iter().map(range_arg).collect::<Result<Vec<_>, _>>()?;
    let (start, stop, step) = match numbers.as_slice() {
        [stop] => (0, *stop, 1),
        [start, stop] => (*start, *stop, 1),
        [start, stop, step] => (*start, *stop, *step),
        [] => return Err(type_error("range expected at least 1 argument, got 0")),
        _ => {
            return Err(type_error(format!(
                "range expected at most 3 arguments, got {}",
                numbers.len()
            )));
        }
    };
    if step == 0 {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            "range() arg 3 must not be zero",
        ));
    }
    Ok(Value::from_object(Range { start, stop, step }))
}

/// `cycler(*items)`: `next()` gives the items in turn, `current` the one `next()` gives
/// next, `reset()` starts over, `items` is the tuple of items.
#[derive(Debug)]
pub(crate) struct Cycler {
    /// The items cycled through (at least one).
    items: Vec<Value>,
    /// The index `next()` returns next.
    pos: AtomicUsize,
}

impl Object for Cycler {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "current" => self.items.get(self.pos.load(Ordering::Relaxed)).cloned(),
            "items" => Some(Value::from(Tuple::from(self.items.clone()))),
            _ => None,
        }
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        if !args.is_empty() {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                format!("{method}() takes no arguments"),
            ));
        }
        match method {
            "next" | "__next__" => {
                let at = self.pos.load(Ordering::Relaxed);
                self.pos
                    .store((at + 1) % self.items.len(), Ordering::Relaxed);
                Ok(self.items[at].clone())
            }
            "reset" => {
                self.pos.store(0, Ordering::Relaxed);
                Ok(Value::from(()))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<jinja2.utils.Cycler object>")
    }
}

/// `cycler(*items)`.
fn cycler(items: Rest<Value>) -> Result<Value, Error> {
    if items.is_empty() {
        return Err(type_error(
            "Cycler.__init__() missing 1 required positional argument: 'items'",
        ));
    }
    Ok(Value::from_object(Cycler {
        items: items.0,
        pos: AtomicUsize::new(0),
    }))
}

/// `joiner(sep=', ')`: a function giving `''` on its first call and `sep` after.
#[derive(Debug)]
struct Joiner {
    /// What calls after the first return.
    sep: Value,
    /// Whether it was called before.
    used: Mutex<bool>,
}

impl Object for Joiner {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        if !args.is_empty() {
            return Err(Error::new(
                ErrorKind::TooManyArguments,
                "joiner takes no arguments",
            ));
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if *used {
            Ok(self.sep.clone())
        } else {
            *used = true;
            Ok(Value::from(""))
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<jinja2.utils.Joiner object>")
    }
}

fn joiner(args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("joiner", &args.into_values(), &["sep"])?;
    Ok(Value::from_object(Joiner {
        sep: args.value_or(0, Value::from(", ")),
        used: Mutex::new(false),
    }))
}

/// `namespace(dict={}, **attributes)`: a namespace (the one object `{% set ns.x = … %}`
/// writes to) holding the dict's items, then the keyword arguments.
fn namespace(args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = args.into_values();
    let (positional, kwargs) = match args.split_last() {
        Some((last, rest)) if last.is_kwargs() => (rest, Some(last)),
        _ => (&args[..], None),
    };
    if positional.len() > 1 {
        return Err(type_error(format!(
            "dict expected at most 1 argument, got {}",
            positional.len()
        )));
    }
    let mut pairs: Vec<(Value, Value)> = Vec::new();
    for source in positional.iter().chain(kwargs) {
        match source.kind() {
            ValueKind::Map => {
                for key in source.try_iter()? {
                    let item = source.get_item(&key)?;
                    pairs.retain(|(k, _)| *k != key);
                    pairs.push((key, item));
                }
            }
            ValueKind::Seq | ValueKind::Iterable => {
                for pair in source.try_iter()? {
                    let kv: Vec<Value> = pair.try_iter()?.collect();
                    let [k, v] = kv.as_slice() else {
                        return Err(type_error(
                            "dictionary update sequence element has wrong length",
                        ));
                    };
                    pairs.retain(|(key, _)| key != k);
                    pairs.push((k.clone(), v.clone()));
                }
            }
            _ => {
                return Err(type_error(format!(
                    "'{}' object is not iterable",
                    type_name(source)
                )));
            }
        }
    }
    let defaults = Value::from_pairs(pairs);
    minijinja::functions::namespace(Some(defaults.into()))
}
