//! The crate's rooms depend on each other in one direction only.
//!
//! A circle between two top-level modules (`a` uses `b`, which uses `a`, perhaps through
//! others) means neither can be read, tested or replaced without the other, and it is how the
//! layout decays one convenient import at a time. This test reads the sources and fails on any
//! circle, naming it with the first use of each step, so a new one is caught where it is made.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A use of another module: the module used, and where (file and line).
type Uses = BTreeMap<String, BTreeMap<String, String>>;

/// The top-level modules of `src/` (a `name.rs`, a `name/` folder, or both), the binary's
/// `main.rs` and `lib.rs` aside.
fn modules(src: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(src).expect("read src/") {
        let path = entry.expect("a directory entry").path();
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a UTF-8 file name")
            .to_owned();
        let is_module = path.is_dir() || path.extension().is_some_and(|e| e == "rs");
        if is_module && name != "lib" && name != "main" {
            names.insert(name);
        }
    }
    names
}

/// The Rust files of module `name`, its unit-test files (`tests.rs`) aside.
fn files(src: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let file = src.join(format!("{name}.rs"));
    if file.is_file() {
        found.push(file);
    }
    let mut folders = vec![src.join(name)];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|f| f != "tests.rs")
            {
                found.push(path);
            }
        }
    }
    found
}

/// How deep the module of the file at `path` (under `src/`) sits: `src/a.rs` and
/// `src/a/mod.rs` are 1 (`super::` of theirs is the crate), `src/a/b.rs` is 2, and so on.
fn depth(src: &Path, path: &Path) -> usize {
    let relative = path.strip_prefix(src).expect("a file under src/");
    let parts = relative.components().count();
    if relative.file_name().is_some_and(|f| f == "mod.rs") {
        parts - 1
    } else {
        parts
    }
}

/// The top-level names a path names after its root (`crate::` or enough `super::`): `a` of
/// `a::B`, and `a`, `c` of `{a::B, c}`.
fn heads(after: &str) -> Vec<String> {
    let ident = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let Some(group) = after.strip_prefix('{') else {
        return vec![ident(after)];
    };
    let mut names = Vec::new();
    let (mut level, mut item_start) = (1, true);
    for (at, c) in group.char_indices() {
        if item_start && !c.is_whitespace() {
            names.push(ident(&group[at..]));
            item_start = false;
        }
        match c {
            '{' => level += 1,
            '}' if level == 1 => break,
            '}' => level -= 1,
            ',' if level == 1 => item_start = true,
            _ => {}
        }
    }
    names
}

/// The top-level modules that `text`, the source of a file `depth` modules deep, names through
/// `crate::` or `super::` paths, with their line numbers. Comment lines and a trailing
/// `#[cfg(test)] mod tests` are not the module's dependencies. A `use` group spanning lines is
/// read whole from its first line.
fn crate_paths(text: &str, depth: usize) -> Vec<(String, usize)> {
    // Each line with where it starts: a group may go on over the next lines.
    let mut offset = 0;
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .map(|line| {
            let start = offset;
            offset += line.len();
            (start, line.trim_end())
        })
        .collect();
    let to_root = "super::".repeat(depth);
    let mut found = Vec::new();
    for (number, &(start, line)) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]")
            && lines
                .get(number + 1)
                .is_some_and(|(_, next)| next.trim_start().starts_with("mod tests"))
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let supers = (depth > 0)
            .then(|| line.match_indices(to_root.as_str()))
            .into_iter()
            .flatten();
        for (at, root) in line.match_indices("crate::").chain(supers) {
            // Part of a longer path or name: `$crate::`, `super::super::` seen one level deep.
            let preceded = line[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == ':');
            if preceded {
                continue;
            }
            for name in heads(&text[start + at + root.len()..]) {
                // `self` and `super` are never a top-level module's name.
                if !name.is_empty() && name != "super" && name != "self" {
                    found.push((name, number + 1));
                }
            }
        }
    }
    found
}

/// Who uses whom, with the first place of each use.
fn graph(src: &Path) -> Uses {
    let names = modules(src);
    let mut uses = Uses::new();
    for name in &names {
        let edges = uses.entry(name.clone()).or_default();
        let mut paths = files(src, name);
        paths.sort();
        for path in paths {
            let text = fs::read_to_string(&path).expect("read a source file");
            for (used, line) in crate_paths(&text, depth(src, &path)) {
                if used != *name && names.contains(&used) {
                    let shown = path.strip_prefix(src.parent().expect("src/ has a parent"));
                    let place = format!("{}:{line}", shown.unwrap_or(&path).display());
                    edges.entry(used).or_insert(place);
                }
            }
        }
    }
    uses
}

/// A circle in `uses`, as the modules along it (the first repeated at the end), if any.
fn circle(uses: &Uses) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &str,
        uses: &Uses,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in uses.get(node).into_iter().flat_map(|edges| edges.keys()) {
            match marks.get(next) {
                Some(Mark::Open) => {
                    let start = path.iter().position(|n| n == next).expect("on the path");
                    let mut found = path[start..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                Some(Mark::Done) => {}
                None => {
                    if let Some(found) = visit(next, uses, marks, path) {
                        return Some(found);
                    }
                }
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in uses.keys() {
        if !marks.contains_key(node) {
            if let Some(found) = visit(node, uses, &mut marks, &mut Vec::new()) {
                return Some(found);
            }
        }
    }
    None
}

#[test]
fn no_top_level_module_depends_on_itself_through_others() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let uses = graph(&src);
    assert!(uses.len() > 10, "the modules of src/ were found: {uses:?}");
    if let Some(found) = circle(&uses) {
        let steps: Vec<String> = found
            .windows(2)
            .map(|pair| {
                format!(
                    "  {} -> {} ({})",
                    pair[0], pair[1], uses[&pair[0]][&pair[1]]
                )
            })
            .collect();
        panic!(
            "a circle between modules: {}\n{}",
            found.join(" -> "),
            steps.join("\n")
        );
    }
}

#[test]
fn a_circle_is_found_and_comments_and_unit_tests_are_not_uses() {
    let text = "use crate::b::X;\n// crate::c in a comment\nlet y = $crate::d;\n\
                use crate::{f, g::{H, I}, j};\nuse crate::{\n    k::L,\n    m,\n};\n\
                use super::n;\nuse super::super::o;\nuse super::{p, q};\n\
                #[cfg(test)]\nmod tests {\n    use crate::e;\n}\n";
    let names = |depth| -> Vec<String> {
        crate_paths(text, depth)
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    };
    // At depth 1 (`src/a.rs`) `super::` is the crate: `n`, `p` and `q` are top-level.
    assert_eq!(names(1), ["b", "f", "g", "j", "k", "m", "n", "p", "q"]);
    // At depth 2 (`src/a/b.rs`) `super::super::` is: `o` is, the others are `a`'s own.
    assert_eq!(names(2), ["b", "f", "g", "j", "k", "m", "o"]);
    let src = Path::new("/p/src");
    assert_eq!(depth(src, Path::new("/p/src/a.rs")), 1);
    assert_eq!(depth(src, Path::new("/p/src/a/mod.rs")), 1);
    assert_eq!(depth(src, Path::new("/p/src/a/b.rs")), 2);

    let mut uses = Uses::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")] {
        uses.entry(from.to_owned())
            .or_default()
            .insert(to.to_owned(), format!("{from}.rs:1"));
    }
    uses.entry("e".to_owned()).or_default();
    let found = circle(&uses).expect("a -> b -> c -> a");
    assert_eq!(found.first(), found.last());
    assert_eq!(found.len(), 4);
    uses.get_mut("c").expect("c").clear();
    assert_eq!(circle(&uses), None);
}
