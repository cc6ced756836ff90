//! Test tables kept as data files (`src/**/testdata/*.tsv`) that unit tests read with `include_str!`, so that a
//! long list of cases reads as a table rather than as code.
//!
//! The format: one case a line, its fields separated by one tab. Blank lines and lines that start with `#` are
//! comments. A line `[name]` (letters, digits, `_`) starts the section `name`; a test reads the section named
//! after it. A field that starts with `"` is a JSON string: that is how a table writes the empty string, leading
//! or trailing spaces, control characters and characters that are hard to tell apart by eye (`"\uff11"`).
//! Every other field is taken as it stands.

/// The rows of section `name` of `table`, each with exactly `N` fields. Panics, naming the line, on a row of
/// another width or a field that is not valid JSON where it should be; and when the section is missing or empty,
/// so that a test can never pass on no cases at all.
pub(crate) fn section<const N: usize>(table: &str, name: &str) -> Vec<[String; N]> {
    let mut current = None;
    let mut rows = Vec::new();
    for (number, line) in table.lines().enumerate().map(|(i, line)| (i + 1, line)) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
            if !header.is_empty() && header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                current = Some(header);
                continue;
            }
        }
        if current != Some(name) {
            continue;
        }
        let fields: Vec<String> = line.split('\t').map(|field| value(field, number)).collect();
        let width = fields.len();
        let row: [String; N] = fields
            .try_into()
            .unwrap_or_else(|_| panic!("line {number}: {width} fields, the section [{name}] has {N}"));
        rows.push(row);
    }
    assert!(
        !rows.is_empty(),
        "the table has no section [{name}], or it is empty"
    );
    rows
}

fn value(field: &str, line: usize) -> String {
    if field.starts_with('"') {
        serde_json::from_str(field)
            .unwrap_or_else(|e| panic!("line {line}: {field} is not a JSON string: {e}"))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_rows_and_quoted_fields() {
        let table = "# a comment\n[one]\na\tb\n\n[two]\n\"\"\t\" x\\u0000\"\n# more\nc\td\n";
        assert_eq!(section::<2>(table, "one"), vec![["a".to_owned(), "b".to_owned()]]);
        assert_eq!(
            section::<2>(table, "two"),
            vec![
                [String::new(), " x\u{0}".to_owned()],
                ["c".to_owned(), "d".to_owned()]
            ]
        );
    }

    #[test]
    #[should_panic(expected = "no section [three]")]
    fn a_missing_section_is_an_error() {
        section::<2>("[one]\na\tb\n", "three");
    }

    #[test]
    #[should_panic(expected = "line 2: 3 fields")]
    fn a_row_of_another_width_is_an_error() {
        section::<2>("[one]\na\tb\tc\n", "one");
    }
}
