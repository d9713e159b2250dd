//! `lipsum(n=5, html=true, min=20, max=100)`: Jinja2's lorem ipsum generator, with its word
//! list and its rules for sentences, commas and paragraphs.

use minijinja::value::{Rest, Value, ValueOrKwargs};
use minijinja::{Error, ErrorKind};

use crate::template::jinja::filters::Args;
use crate::template::jinja::filters_text::escape_text;

use super::{random_below, randrange};

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
pub(super) fn lipsum(args: Rest<ValueOrKwargs>) -> Result<Value, Error> {
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
        .map(|p| format!("<p>{}</p>", escape_text(p)))
        .collect();
    Ok(Value::from_safe_string(html.join("\n")))
}
