//! The contract lives in the repository (docs/contract.md) and says what the code does: every rule id a message
//! or comment cites is explained there, every section cited exists, and its tables (configuration keys, error
//! codes, warnings) and the README's configuration table match the engine's own descriptions.

use std::collections::BTreeSet;
use std::path::Path;

use cimd::config::{KeyType, KEYS};
use cimd::ErrorCode;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn contract() -> String {
    read("docs/contract.md")
}

/// The families of rule ids (the requirement catalogue's and cimd's own).
const FAMILIES: [&str; 14] = [
    "URL", "FET", "SIZE", "SSRF", "DOC", "RED", "CAC", "POL", "AUTH", "UI", "META", "REG", "LOGO", "DEV",
];

/// The rule ids cited in `text`.
fn ids(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(id) = cimd::rules::rule_of(rest) {
        let at = rest.find(id).unwrap();
        if FAMILIES.contains(&id.split('-').next().unwrap()) {
            out.insert(id.to_owned());
        }
        rest = &rest[at + id.len()..];
    }
    out
}

/// The Rust sources of the crate, without their test modules (which quote made-up ids on purpose).
fn sources() -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]\nmod tests").next().unwrap().to_owned();
                files.push((path.display().to_string(), code));
            }
        }
    }
    files
}

/// The ids the contract's §13 table explains.
fn explained() -> BTreeSet<String> {
    let c = contract();
    let table = c.split("## §13 Rule ids").nth(1).expect("§13");
    let mut out = BTreeSet::new();
    for line in table
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| id"))
    {
        let first = line.split('|').nth(1).unwrap();
        out.extend(ids(first));
    }
    out
}

#[test]
fn every_rule_id_the_code_cites_is_explained_in_the_contract() {
    let explained = explained();
    assert!(explained.len() > 50, "{explained:?}");
    for (file, code) in sources() {
        for id in ids(&code) {
            assert!(
                explained.contains(&id),
                "{file} cites {id}, which docs/contract.md §13 does not explain"
            );
        }
    }
    // The draft -03 ids this contract version adds are there.
    for id in [
        "AUTH-10", "AUTH-11", "AUTH-12", "AUTH-13", "AUTH-14", "AUTH-15", "AUTH-16", "AUTH-17",
    ] {
        assert!(explained.contains(id), "{id}");
    }
}

#[test]
fn every_section_cited_exists() {
    let c = contract();
    let sections: BTreeSet<String> = c
        .lines()
        .filter_map(|l| l.strip_prefix("## §"))
        .map(|l| l.split(' ').next().unwrap().to_owned())
        .collect();
    let mut cited = 0;
    let mut files = sources();
    for extra in [
        "README.md",
        "docs/keycloak.md",
        "docs/conformance.md",
        "bindings/go/README.md",
        "bindings/python/README.md",
    ] {
        files.push((extra.to_owned(), read(extra)));
    }
    for (file, text) in files {
        for (at, _) in text.match_indices("docs/contract.md §") {
            let rest = &text[at + "docs/contract.md §".len()..];
            let number: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.');
            let (section, item) = number.split_once('.').unwrap_or((number, ""));
            assert!(
                sections.contains(section),
                "{file} cites docs/contract.md §{number}, which does not exist"
            );
            if !item.is_empty() {
                let body = c.split(&format!("## §{section} ")).nth(1).unwrap();
                let body = body.split("\n## ").next().unwrap();
                assert!(
                    body.lines().any(|l| l.starts_with(&format!("{item}. "))),
                    "{file} cites docs/contract.md §{number}, which has no item {item}"
                );
            }
            cited += 1;
        }
    }
    assert!(cited > 20, "{cited} citations found");
}

/// The rows of the first table after `heading` in `text`, as cells.
fn table(text: &str, heading: &str) -> Vec<Vec<String>> {
    let section = text.split(heading).nth(1).unwrap_or_else(|| panic!("{heading}"));
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.split('|')
                .skip(1)
                .map(|c| c.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn unquote(cell: &str) -> &str {
    cell.trim_matches('`')
}

#[test]
fn the_configuration_tables_follow_the_engine_description() {
    let contract_rows = table(&contract(), "## §8 Configuration");
    let readme_rows = table(&read("README.md"), "## Configuration");
    let mut keycloak_rows = table(&read("docs/keycloak.md"), "## Options");
    keycloak_rows.retain(|r| !r[0].contains("(Keycloak's)"));
    let names = |rows: &[Vec<String>]| rows.iter().map(|r| unquote(&r[0]).to_owned()).collect::<Vec<_>>();
    let keys: Vec<String> = KEYS.iter().map(|k| k.name.to_owned()).collect();
    assert_eq!(names(&contract_rows), keys, "docs/contract.md §8");
    assert_eq!(names(&readme_rows), keys, "README.md");
    assert_eq!(names(&keycloak_rows), keys, "docs/keycloak.md");
    for (spec, row) in KEYS.iter().zip(&contract_rows) {
        assert_eq!(row[1], spec.ty.as_str(), "{}: type", spec.name);
        let default = unquote(&row[2]);
        if spec.default == "null" {
            assert_eq!(default, "none", "{}", spec.name);
        } else {
            let shown: serde_json::Value =
                serde_json::from_str(default).unwrap_or_else(|e| panic!("{}: {e}", spec.name));
            let real: serde_json::Value = serde_json::from_str(spec.default).unwrap();
            assert_eq!(shown, real, "{}: default", spec.name);
        }
        match (spec.ty, spec.range) {
            (KeyType::Integer, Some((min, max))) => {
                assert_eq!(row[3], format!("{min} .. {max}"), "{}", spec.name)
            }
            (KeyType::Object, _) => {
                for f in spec.fields {
                    let (min, max) = f.range.unwrap();
                    assert!(
                        row[3].contains(&format!("{} {min} .. {max}", f.name)),
                        "{}: {}",
                        spec.name,
                        row[3]
                    );
                }
            }
            _ => assert!(row[3].is_empty(), "{}", spec.name),
        }
    }
    for (spec, row) in KEYS.iter().zip(&readme_rows) {
        if spec.default != "null" {
            let shown: serde_json::Value = serde_json::from_str(unquote(&row[1]))
                .unwrap_or_else(|e| panic!("README {}: {e}: {}", spec.name, row[1]));
            assert_eq!(
                shown,
                serde_json::from_str::<serde_json::Value>(spec.default).unwrap(),
                "README {}",
                spec.name
            );
        }
    }
}

#[test]
fn the_error_code_tables_follow_the_engine() {
    for (file, heading) in [
        ("docs/contract.md", "## §7 Error codes"),
        ("README.md", "## Error codes"),
    ] {
        let rows = table(&read(file), heading);
        let mut seen = BTreeSet::new();
        for row in &rows {
            for code in row[0].split(',').map(|c| unquote(c.trim())) {
                let code =
                    ErrorCode::from_name(code).unwrap_or_else(|| panic!("{file}: unknown code {code}"));
                assert!(
                    row[2].starts_with(&format!("`{}`", code.oauth_error())),
                    "{file}: {code}: {}",
                    row[2]
                );
                seen.insert(code);
            }
        }
        assert_eq!(seen.len(), ErrorCode::ALL.len(), "{file} lists {seen:?}");
    }
}

#[test]
fn every_warning_is_in_the_contract() {
    let c = contract();
    let section = c
        .split("## §6 The result")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    for w in cimd::WARNINGS {
        assert!(section.contains(&format!("`{w}`")), "§6 lacks {w}");
    }
}

#[test]
fn every_test_the_conformance_matrix_cites_exists() {
    let matrix = read("docs/conformance.md");
    let mut checked = 0;
    for (at, _) in matrix.match_indices(".rs::") {
        let start = matrix[..at].rfind(['`', ' ', '(']).map_or(0, |i| i + 1);
        let file = &matrix[start..at + 3];
        if !(file.starts_with("src/") || file.starts_with("tests/")) || file.contains("/x.rs") {
            continue;
        }
        let rest = &matrix[at + 5..];
        let rest = rest.strip_prefix("tests::").unwrap_or(rest);
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let source = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .unwrap_or_else(|_| panic!("docs/conformance.md cites {file}, which does not exist"));
        assert!(
            source.contains(&format!("fn {name}(")),
            "docs/conformance.md cites {file}::{name}, which does not exist"
        );
        checked += 1;
    }
    assert!(checked > 150, "{checked} test citations found");
}
