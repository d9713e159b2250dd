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

/// The words `lipsum` draws from.
const LOREM: &[&str] = &[
    "a",
    "ac",
    "accumsan",
    "ad",
    "adipiscing",
    "aenean",
    "aliquam",
    "aliquet",
    "amet",
    "ante",
    "aptent",
    "arcu",
    "at",
    "auctor",
    "augue",
    "bibendum",
    "blandit",
    "class",
    "commodo",
    "condimentum",
    "congue",
    "consectetuer",
    "consequat",
    "conubia",
    "convallis",
    "cras",
    "cubilia",
    "cum",
    "curabitur",
    "curae",
    "cursus",
    "dapibus",
    "diam",
    "dictum",
    "dictumst",
    "dignissim",
    "dis",
    "dolor",
    "donec",
    "dui",
    "duis",
    "egestas",
    "eget",
    "eleifend",
    "elementum",
    "elit",
    "enim",
    "erat",
    "eros",
    "est",
    "et",
    "etiam",
    "eu",
    "euismod",
    "facilisi",
    "facilisis",
    "fames",
    "faucibus",
    "felis",
    "fermentum",
    "feugiat",
    "fringilla",
    "fusce",
    "gravida",
    "habitant",
    "habitasse",
    "hac",
    "hendrerit",
    "hymenaeos",
    "iaculis",
    "id",
    "imperdiet",
    "in",
    "inceptos",
    "integer",
    "interdum",
    "ipsum",
    "justo",
    "lacinia",
    "lacus",
    "laoreet",
    "lectus",
    "leo",
    "libero",
    "ligula",
    "litora",
    "lobortis",
    "lorem",
    "luctus",
    "maecenas",
    "magna",
    "magnis",
    "malesuada",
    "massa",
    "mattis",
    "mauris",
    "metus",
    "mi",
    "molestie",
    "mollis",
    "montes",
    "morbi",
    "mus",
    "nam",
    "nascetur",
    "natoque",
    "nec",
    "neque",
    "netus",
    "nibh",
    "nisi",
    "nisl",
    "non",
    "nonummy",
    "nostra",
    "nulla",
    "nullam",
    "nunc",
    "odio",
    "orci",
    "ornare",
    "parturient",
    "pede",
    "pellentesque",
    "penatibus",
    "per",
    "pharetra",
    "phasellus",
    "placerat",
    "platea",
    "porta",
    "porttitor",
    "posuere",
    "potenti",
    "praesent",
    "pretium",
    "primis",
    "proin",
    "pulvinar",
    "purus",
    "quam",
    "quis",
    "quisque",
    "rhoncus",
    "ridiculus",
    "risus",
    "rutrum",
    "sagittis",
    "sapien",
    "scelerisque",
    "sed",
    "sem",
    "semper",
    "senectus",
    "sit",
    "sociis",
    "sociosqu",
    "sodales",
    "sollicitudin",
    "suscipit",
    "suspendisse",
    "taciti",
    "tellus",
    "tempor",
    "tempus",
    "tincidunt",
    "torquent",
    "tortor",
    "tristique",
    "turpis",
    "ullamcorper",
    "ultrices",
    "ultricies",
    "urna",
    "ut",
    "varius",
    "vehicula",
    "vel",
    "velit",
    "venenatis",
    "vestibulum",
    "vitae",
    "vivamus",
    "viverra",
    "volutpat",
    "vulputate",
];

/// One paragraph of `lipsum`: `min..max` words, capitalised sentences, commas, a final dot.
fn lipsum_paragraph(min: i64, max: i64) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut next_capitalized = true;
    let (mut last_comma, mut last_fullstop) = (0i64, 0i64);
    let mut last = "";
    for idx in 0..randrange(min, max) {
        let word = loop {
            let w = LOREM[usize::try_from(random_below(LOREM.len() as u64)).unwrap_or(0)];
            if w != last {
                last = w;
                break w;
            }
        };
        let mut word = if next_capitalized {
            next_capitalized = false;
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default()
        } else {
            word.to_owned()
        };
        if idx - randrange(3, 8) > last_comma {
            last_comma = idx;
            last_fullstop += 2;
            word.push(',');
        }
        if idx - randrange(10, 20) > last_fullstop {
            last_comma = idx;
            last_fullstop = idx;
            word.push('.');
            next_capitalized = true;
        }
        words.push(word);
    }
    let mut text = words.join(" ");
    if text.ends_with(',') {
        text.pop();
        text.push('.');
    } else if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// `lipsum(n=5, html=true, min=20, max=100)`: placeholder paragraphs.
fn lipsum(args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
    let args = Args::bind("lipsum", &args.into_values(), &["n", "html", "min", "max"])?;
    let n = args.int(0, "lipsum", 5)?;
    let min = args.int(2, "lipsum", 20)?;
    let max = args.int(3, "lipsum", 100)?;
    if max <= min {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("empty range in randrange({min}, {max})"),
        ));
    }
    let paragraphs: Vec<String> = (0..n.max(0)).map(|_| lipsum_paragraph(min, max)).collect();
    if !args.flag(1, true) {
        return Ok(Value::from(paragraphs.join("\n\n")));
    }
    let html: Vec<String> = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", super::filters_text::escape_text(p)))
        .collect();
    Ok(Value::from_safe_string(html.join("\n")))
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
