//! The model's dicts in templates behave as docker-pygen's `EnhancedDict` (its `__getattr__`
//! fallback, reached from Jinja2's subscript too): a missing key gives the map's default by
//! attribute and by subscript (`''` for labels and env, `None` for model objects), so
//! `default('y')` keeps `''` and only `default('y', true)` replaces it; lookups fall back to
//! a key equal ignoring case; `in` is Python's exact, case-sensitive key test.
//!
//! The expected outputs are docker-pygen's, as its specification records them (verified
//! against docker-pygen); the data is `tests/data/sample-dump.json`, whose first container
//! `sample1` has the labels `pygen.target=t1`, `virtual-host=www.example.com` and the env
//! `FOO=bar`, `WITH_EQ=a=b`, `PATH=…`.

use std::path::Path;

use pygen::model::Snapshot;
use pygen::template::Template;

/// Renders `text` over the sample dump, limited to container `sample1`.
fn render(text: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sample-dump.json");
    let json = std::fs::read_to_string(path).expect("test data exists");
    let snapshot = Snapshot::from_dump(&json).expect("test data is a valid dump");
    let text = format!("{{% for c in containers if c.name == 'sample1' %}}{text}{{% endfor %}}");
    let template = Template::from_text("t", text).expect("compiles");
    template
        .render_snapshot(&snapshot)
        .unwrap_or_else(|e| format!("ERROR {e}"))
}

#[test]
fn missing_keys_by_attribute_and_subscript() {
    assert_eq!(
        render("[{{ c.labels.missing }}][{{ c.labels['missing'] }}][{{ c.env['NOPE'] }}]"),
        "[][][]"
    );
    assert_eq!(
        render("[{{ c.missing }}][{{ c['missing'] }}]"),
        "[None][None]"
    );
}

#[test]
fn default_filter_on_missing_keys() {
    assert_eq!(
        render(
            "[{{ c.labels['x']|default('y') }}][{{ c.labels.x|default('y') }}][{{ c.labels['x']|default('y', true) }}]"
        ),
        "[][][y]"
    );
    assert_eq!(
        render("{{ c.labels['missing'] is defined }} {{ c.labels.missing is defined }}"),
        "True True"
    );
}

#[test]
fn case_insensitive_lookup() {
    assert_eq!(
        render("{{ c.labels['VIRTUAL-HOST'] }} {{ c.env.foo }} {{ c.env['Foo'] }}"),
        "www.example.com bar bar"
    );
}

#[test]
fn in_is_exact() {
    assert_eq!(
        render(
            "{{ 'virtual-host' in c.labels }} {{ 'VIRTUAL-HOST' in c.labels }} {{ 'missing' in c.labels }} {{ 'missing' not in c.labels }} {{ 'FOO' in c.env }} {{ 'foo' in c.env }}"
        ),
        "True False False True True False"
    );
}

#[test]
fn methods_on_model_dicts() {
    assert_eq!(
        render(
            "{{ c.labels.get('virtual-host') }} {{ c.labels.get('VIRTUAL-HOST') }} {{ c.labels.get('x', 'd') }} {{ c.labels.items()|list|length }}"
        ),
        "www.example.com None d 2"
    );
}

#[test]
fn percent_and_methods_on_model_values() {
    assert_eq!(
        render(
            "{{ '%s:%s' % (c.name, c.labels['pygen.target']) }} {{ c.labels['virtual-host'].split('.')[0] }}"
        ),
        "sample1:t1 www"
    );
}
