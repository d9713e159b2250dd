//! nginx-proxy's `nginx.tmpl` (docker-gen's most used template) parses, with the helper
//! templates it defines; functions it needs that are not registered fail only if executed.

use gotmpl::{Template, Value};

const NGINX: &str = include_str!("fixtures/nginx.tmpl");

#[test]
fn nginx_tmpl_parses() {
    let mut t = Template::new("nginx.tmpl").skip_func_check();
    t.parse(NGINX).expect("nginx.tmpl parses");
    let names = t.template_names();
    assert!(names.contains(&"nginx.tmpl"), "{names:?}");
    // nginx.tmpl defines helper templates with `define`.
    assert!(names.len() > 5, "{names:?}");
    for defined in ["location", "ssl_policy", "upstream"] {
        assert!(t.lookup(defined), "{defined} is defined: {names:?}");
    }
}

#[test]
fn unknown_functions_fail_only_when_executed() {
    let mut t = Template::new("t").skip_func_check();
    t.parse("{{ if false }}{{ nosuch 1 }}{{ end }}ok")
        .expect("parses");
    assert_eq!(t.execute(&Value::Nil).expect("runs"), "ok");
    let mut t = Template::new("t").skip_func_check();
    t.parse("{{ nosuch 1 }}").expect("parses");
    let err = t.execute(&Value::Nil).expect_err("undefined at run time");
    assert_eq!(
        err.to_string(),
        "template: t:1:3: executing \"t\" at <nosuch>: \"nosuch\" is not a defined function"
    );
}
