//! Strict JSON intake for fetched metadata documents (docs/contract.md §3, first bullet; FET-02).
//!
//! A client metadata document decides which redirect URIs and which authentication method a stranger's client
//! gets. If two JSON parsers could read the same bytes differently (one keeps the first `client_id`, another the
//! last; one skips a byte order mark, another refuses it), an attacker could show one document to a linter or a
//! reviewing tool and another to the identity server. So this parser accepts only the unambiguous subset of
//! RFC 8259: UTF-8 without a byte order mark, exactly one value, no duplicate member names at any depth, and
//! bounded nesting and sizes so that a hostile 5 KB document cannot exhaust the stack or memory.
//!
//! The syntax itself is serde_json's (which already rejects trailing commas, comments, raw control characters
//! in strings and lone UTF-16 surrogates in `\u` escapes); this module adds a [`DeserializeSeed`] that builds a
//! [`serde_json::Value`] while it enforces the structural limits, so a violation stops the parse at once instead
//! of after the whole tree has been built.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::Error;

/// serde_json refuses the 128th nested container on its own (its default recursion guard, which we keep as a
/// second line of defence), so no `max_depth` above this value can ever be reached.
const SERDE_JSON_MAX_DEPTH: usize = 127;

/// Longest member name quoted in an error description, so that a hostile document cannot fill the log.
const MAX_QUOTED_NAME_CHARS: usize = 64;

/// Structural bounds for one document.
///
/// They exist because a document is attacker-controlled: without them a few kilobytes of `[` or of tiny array
/// elements cost far more memory and stack than their size suggests, and a long `redirect_uris` list makes every
/// authorization request slower to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonLimits {
    /// Deepest allowed nesting of arrays and objects; an empty top-level object or array is depth 1 and a
    /// top-level scalar is depth 0. Values above 127 behave as 127 (serde_json's own recursion guard).
    pub max_depth: usize,
    /// Most elements allowed in any single array, at any depth.
    pub max_array_items: usize,
    /// Most members allowed in any single object, at any depth.
    pub max_object_members: usize,
}

impl Default for JsonLimits {
    /// The limits of docs/contract.md §3: depth 32, 64 elements per array (e.g. `redirect_uris`), and 64 members
    /// per object (a metadata document has about 20 registered members; 64 leaves room for extensions).
    fn default() -> JsonLimits {
        JsonLimits {
            max_depth: 32,
            max_array_items: 64,
            max_object_members: 64,
        }
    }
}

/// Parses one RFC 8259 JSON value from `bytes`, rejecting everything that two parsers might read differently.
///
/// * The bytes must be valid UTF-8 (RFC 8259 §8.1). A UTF-8 byte order mark is refused: the RFC forbids senders
///   to add one and only lets parsers *choose* to ignore it, so some parsers accept it and others fail, which is
///   exactly the kind of differential this module exists to prevent.
/// * Exactly one value, with nothing but JSON whitespace after it.
/// * No object at any depth may repeat a member name. Names are compared after unescaping, so
///   `{"a":1,"\u0061":2}` is a duplicate (RFC 8259 §4 leaves the behaviour of duplicates undefined; here they are
///   an error because a parser differential on `client_id` or `redirect_uris` is an attack).
/// * Nesting, array lengths and object sizes are bounded by `limits`.
/// * A `\u` escape must not produce a lone surrogate; a raw control character (including NUL) inside a string
///   is invalid, while the escaped form `\u0000` is valid.
///
/// Numbers are kept as [`serde_json::Number`]; an integer beyond 64 bits becomes an `f64`, which is fine for
/// metadata (no member of a client document needs exact big integers).
///
/// Every failure is an [`ErrorCode::InvalidJson`](crate::error::ErrorCode::InvalidJson) error whose description
/// names the rule and, where serde_json knows it, the line and column.
pub fn parse_strict(bytes: &[u8], limits: &JsonLimits) -> Result<Value, Error> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(err!(
            InvalidJson,
            "document starts with a byte order mark, which RFC 8259 §8.1 forbids (FET-02)"
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        err!(
            InvalidJson,
            "document is not valid UTF-8 at byte {} (FET-02, RFC 8259 §8.1)",
            e.valid_up_to()
        )
    })?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value = ValueSeed { limits, depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| describe(&e, limits))?;
    Ok(value)
}

/// Turns a serde_json error into our error. Errors raised by [`ValueVisitor`] are `Category::Data` and already
/// carry a complete sentence (serde_json appends the position); everything else is a syntax problem.
fn describe(e: &serde_json::Error, limits: &JsonLimits) -> Error {
    let text = e.to_string();
    match e.classify() {
        serde_json::error::Category::Data => err!(InvalidJson, "{text}"),
        _ if text.starts_with("recursion limit exceeded") => err!(
            InvalidJson,
            "JSON nesting deeper than {} at line {} column {} (FET-02)",
            limits.max_depth.min(SERDE_JSON_MAX_DEPTH),
            e.line(),
            e.column()
        ),
        _ => err!(
            InvalidJson,
            "document is not valid JSON: {text} (FET-02, RFC 8259)"
        ),
    }
}

/// Builds one JSON value that sits inside `depth` enclosing containers.
struct ValueSeed<'l> {
    limits: &'l JsonLimits,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor {
            limits: self.limits,
            depth: self.depth,
        })
    }
}

/// The visitor behind [`ValueSeed`]. Containers check their own depth *before* reading any child, so the
/// recursion never goes deeper than `max_depth + 1` frames whatever the input.
struct ValueVisitor<'l> {
    limits: &'l JsonLimits,
    depth: usize,
}

impl ValueVisitor<'_> {
    /// The depth of a container opened here, or the depth error.
    fn enter<E: de::Error>(&self) -> Result<usize, E> {
        let depth = self.depth.saturating_add(1);
        if depth > self.limits.max_depth {
            return Err(E::custom(format_args!(
                "JSON nesting deeper than {} (FET-02)",
                self.limits.max_depth
            )));
        }
        Ok(depth)
    }
}

impl<'de> Visitor<'de> for ValueVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands over a non-finite number, but a Value cannot hold one, so say so if it did.
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite (RFC 8259 §6)"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(ValueSeed {
            limits: self.limits,
            depth,
        })? {
            if items.len() >= self.limits.max_array_items {
                return Err(de::Error::custom(format_args!(
                    "array has more than {} elements (FET-02)",
                    self.limits.max_array_items
                )));
            }
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.enter()?;
        let mut members = Map::new();
        // serde_json hands keys over already unescaped, so "\u0061" and "a" compare equal here.
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(format_args!(
                    "duplicate member {} in document (FET-02, RFC 8259 §4)",
                    crate::error::quote_bounded(&name, MAX_QUOTED_NAME_CHARS)
                )));
            }
            if members.len() >= self.limits.max_object_members {
                return Err(de::Error::custom(format_args!(
                    "object has more than {} members (FET-02)",
                    self.limits.max_object_members
                )));
            }
            let value = map.next_value_seed(ValueSeed {
                limits: self.limits,
                depth,
            })?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    fn limits() -> JsonLimits {
        JsonLimits::default()
    }

    fn parse(s: &str) -> Result<Value, Error> {
        parse_strict(s.as_bytes(), &limits())
    }

    /// Asserts failure with InvalidJson and a description containing `needle`.
    fn fails_with(bytes: &[u8], l: &JsonLimits, needle: &str) {
        match parse_strict(bytes, l) {
            Ok(v) => panic!("{:?} parsed as {v}", String::from_utf8_lossy(bytes)),
            Err(e) => {
                assert_eq!(e.code(), ErrorCode::InvalidJson, "{e}");
                assert!(
                    e.description().contains(needle),
                    "{:?}: description {:?} lacks {needle:?}",
                    String::from_utf8_lossy(bytes),
                    e.description()
                );
            }
        }
    }

    fn nested(open: &str, close: &str, depth: usize) -> String {
        format!("{}{}", open.repeat(depth), close.repeat(depth))
    }

    #[test]
    fn fet_02_valid_documents_parse() {
        let cases: [(&str, Value); 9] = [
            (
                r#"{"client_id":"https://c.example/a.json","redirect_uris":["https://c.example/cb"]}"#,
                json!({"client_id":"https://c.example/a.json","redirect_uris":["https://c.example/cb"]}),
            ),
            (" \t\r\n{}\n\r\t ", json!({})),
            ("[]", json!([])),
            ("\"text\"", json!("text")),
            ("null", Value::Null),
            ("true", json!(true)),
            ("-12.5e2", json!(-1250.0)),
            (r#"{"a":{"a":{"a":1}}}"#, json!({"a":{"a":{"a":1}}})),
            (r#"[{"a":1},{"a":2}]"#, json!([{"a":1},{"a":2}])),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn fet_02_syntax_errors_are_invalid_json_with_position() {
        let cases: [(&str, &str); 12] = [
            ("", "EOF while parsing a value at line 1 column 0"),
            ("   ", "EOF while parsing a value"),
            (r#"{"a":1,}"#, "trailing comma at line 1 column 8"),
            ("[1,2,]", "trailing comma"),
            ("{} {}", "trailing characters at line 1 column 4"),
            ("{}x", "trailing characters"),
            ("{'a':1}", "key must be a string"),
            ("{\"a\":1 // c\n}", "not valid JSON"),
            ("[NaN]", "not valid JSON"),
            ("[01]", "not valid JSON"),
            ("{\"a\":1", "EOF while parsing an object"),
            ("\u{a0}{}", "not valid JSON"),
        ];
        for (text, needle) in cases {
            fails_with(text.as_bytes(), &limits(), needle);
            fails_with(text.as_bytes(), &limits(), "(FET-02, RFC 8259)");
        }
    }

    #[test]
    fn fet_02_not_utf8_names_the_byte() {
        let mut doc = br#"{"client_name":"ab"#.to_vec();
        let at = doc.len();
        doc.extend_from_slice(b"\xff\"}");
        fails_with(
            &doc,
            &limits(),
            &format!("document is not valid UTF-8 at byte {at}"),
        );
        // Overlong encoding and a UTF-8-encoded surrogate (CESU-8) are not UTF-8 either.
        fails_with(b"[\"\xc0\xaf\"]", &limits(), "not valid UTF-8 at byte 2");
        fails_with(b"[\"\xed\xa0\x80\"]", &limits(), "not valid UTF-8 at byte 2");
        // Truncated sequence at the very end.
        fails_with(b"\"\xe2\x82", &limits(), "not valid UTF-8 at byte 1");
    }

    #[test]
    fn fet_02_byte_order_mark_is_refused() {
        fails_with(b"\xef\xbb\xbf{}", &limits(), "byte order mark");
        // A BOM character inside a string is ordinary content.
        assert_eq!(parse("[\"\u{feff}\"]").unwrap(), json!(["\u{feff}"]));
    }

    #[test]
    fn doc_json_duplicate_members_rejected_at_any_depth() {
        let cases: [(&str, &str); 6] = [
            (
                r#"{"client_id":"https://a.example/c","client_id":"https://b.example/c"}"#,
                "duplicate member \"client_id\" in document (FET-02, RFC 8259 §4)",
            ),
            (r#"{"a":1,"\u0061":2}"#, "duplicate member \"a\""),
            (r#"{"\u0061":1,"a":2}"#, "duplicate member \"a\""),
            (r#"{"x":{"y":[{"k":1,"k":1}]}}"#, "duplicate member \"k\""),
            (r#"{"":1,"":2}"#, "duplicate member \"\""),
            (r#"{"\u00e9":1,"é":2}"#, "duplicate member \"é\""),
        ];
        for (text, needle) in cases {
            fails_with(text.as_bytes(), &limits(), needle);
        }
        // Same names in different objects, and names that differ only in case, are fine.
        assert!(parse(r#"{"a":{"a":1},"b":{"a":2},"A":3}"#).is_ok());
    }

    #[test]
    fn doc_json_duplicate_error_has_position_and_escaped_bounded_name() {
        let e = parse(r#"{"a":1,"a":2}"#).unwrap_err();
        assert!(
            e.description().ends_with("at line 1 column 10"),
            "{}",
            e.description()
        );
        let e = parse("{\"\\n\\u0000x\":1,\"\\n\\u0000x\":2}").unwrap_err();
        assert!(e.description().contains(r#""\n\0x""#), "{}", e.description());
        let long = "n".repeat(500);
        let e = parse(&format!(r#"{{"{long}":1,"{long}":2}}"#)).unwrap_err();
        assert!(
            e.description().contains(&format!("\"{}\"…", "n".repeat(64))),
            "{}",
            e.description()
        );
        assert!(e.description().len() < 200);
    }

    #[test]
    fn fet_02_unicode_escapes() {
        let ok: [(&str, Value); 5] = [
            (r#"["\u00e9"]"#, json!(["é"])),
            (r#"["\ud83d\ude00"]"#, json!(["😀"])),
            (r#"["\u20AC\u20ac"]"#, json!(["€€"])),
            ("[\"😀é\"]", json!(["😀é"])),
            (r#"["\"\\\/\b\f\n\r\t"]"#, json!(["\"\\/\u{8}\u{c}\n\r\t"])),
        ];
        for (text, want) in ok {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
        let bad: [(&str, &str); 6] = [
            (r#"["\ud83d"]"#, "hex escape"),
            (r#"["\ud83dx"]"#, "hex escape"),
            (r#"["\ude00"]"#, "surrogate"),
            (r#"["\ud83d\u0041"]"#, "surrogate"),
            (r#"["\u12"]"#, "not valid JSON"),
            (r#"["\x41"]"#, "invalid escape"),
        ];
        for (text, needle) in bad {
            fails_with(text.as_bytes(), &limits(), needle);
        }
        // A lone surrogate as a member name is refused too.
        fails_with(br#"{"\udc00":1}"#, &limits(), "surrogate");
    }

    #[test]
    fn fet_02_nul_escaped_is_valid_raw_is_not() {
        assert_eq!(parse(r#"["a\u0000b"]"#).unwrap(), json!(["a\u{0}b"]));
        fails_with(b"[\"a\x00b\"]", &limits(), "control character");
        fails_with(b"[1]\x00", &limits(), "trailing characters");
        fails_with(b"[\"tab\tinside\"]", &limits(), "control character");
        fails_with(b"[\"line\nbreak\"]", &limits(), "control character");
    }

    #[test]
    fn fet_02_big_numbers_stay_numbers() {
        let v = parse("[18446744073709551615, -9223372036854775808, 123456789012345678901234567890, 1e308]")
            .unwrap();
        assert_eq!(v[0].as_u64(), Some(u64::MAX));
        assert_eq!(v[1].as_i64(), Some(i64::MIN));
        let huge = v[2].as_f64().unwrap();
        assert!((huge - 1.2345678901234568e29).abs() < 1e15, "{huge}");
        assert_eq!(v[3].as_f64(), Some(1e308));
        fails_with(b"[1e400]", &limits(), "number out of range");
        fails_with(b"[-]", &limits(), "not valid JSON");
    }

    #[test]
    fn doc_json_depth_at_limit_and_beyond() {
        let l = JsonLimits {
            max_depth: 32,
            ..limits()
        };
        assert!(parse_strict(nested("[", "]", 32).as_bytes(), &l).is_ok());
        fails_with(nested("[", "]", 33).as_bytes(), &l, "JSON nesting deeper than 32");
        let obj = |d: usize| format!("{}1{}", r#"{"a":"#.repeat(d), "}".repeat(d));
        assert!(parse_strict(obj(32).as_bytes(), &l).is_ok());
        fails_with(obj(33).as_bytes(), &l, "JSON nesting deeper than 32");
        // Mixed nesting counts arrays and objects alike.
        let mixed = format!("{}1{}", r#"[{"a":"#.repeat(16), "}]".repeat(16));
        assert!(parse_strict(mixed.as_bytes(), &l).is_ok());
        let mixed = format!("{}[]{}", r#"[{"a":"#.repeat(16), "}]".repeat(16));
        fails_with(mixed.as_bytes(), &l, "deeper than 32");
    }

    #[test]
    fn doc_json_empty_top_level_object_is_depth_one() {
        let zero = JsonLimits {
            max_depth: 0,
            ..limits()
        };
        assert_eq!(parse_strict(b"\"scalar\"", &zero).unwrap(), json!("scalar"));
        fails_with(b"{}", &zero, "JSON nesting deeper than 0");
        fails_with(b"[]", &zero, "JSON nesting deeper than 0");
        let one = JsonLimits {
            max_depth: 1,
            ..limits()
        };
        assert!(parse_strict(br#"{"a":1,"b":"x"}"#, &one).is_ok());
        fails_with(br#"{"a":[]}"#, &one, "JSON nesting deeper than 1");
    }

    #[test]
    fn doc_json_deep_input_never_overflows_the_stack() {
        for n in [100_000, 1 << 20] {
            let brackets = "[".repeat(n);
            fails_with(brackets.as_bytes(), &limits(), "JSON nesting deeper than 32");
            let braces = r#"{"a":"#.repeat(n / 5);
            fails_with(braces.as_bytes(), &limits(), "JSON nesting deeper than 32");
        }
        // A limit beyond serde_json's own guard is capped by that guard, reported as a depth error.
        let generous = JsonLimits {
            max_depth: 10_000,
            ..limits()
        };
        assert!(parse_strict(nested("[", "]", 127).as_bytes(), &generous).is_ok());
        fails_with(
            nested("[", "]", 128).as_bytes(),
            &generous,
            "JSON nesting deeper than 127",
        );
        fails_with(
            "[".repeat(100_000).as_bytes(),
            &generous,
            "JSON nesting deeper than 127",
        );
    }

    #[test]
    fn doc_json_array_and_object_sizes_bounded() {
        let l = JsonLimits {
            max_depth: 32,
            max_array_items: 64,
            max_object_members: 3,
        };
        let arr = |n: usize| format!("[{}]", vec!["0"; n].join(","));
        assert_eq!(
            parse_strict(arr(64).as_bytes(), &l)
                .unwrap()
                .as_array()
                .map(Vec::len),
            Some(64)
        );
        fails_with(arr(65).as_bytes(), &l, "array has more than 64 elements");
        // Applies to nested arrays as well.
        fails_with(
            format!(r#"{{"redirect_uris":{}}}"#, arr(65)).as_bytes(),
            &l,
            "more than 64 elements",
        );
        assert!(parse_strict(br#"{"a":1,"b":2,"c":3}"#, &l).is_ok());
        fails_with(
            br#"{"a":1,"b":2,"c":3,"d":4}"#,
            &l,
            "object has more than 3 members",
        );
        fails_with(
            br#"[{"a":1,"b":2,"c":3,"d":4}]"#,
            &l,
            "object has more than 3 members",
        );
        let empty = JsonLimits {
            max_array_items: 0,
            max_object_members: 0,
            ..l
        };
        assert!(parse_strict(
            b"[[],{}]",
            &JsonLimits {
                max_array_items: 2,
                ..empty
            }
        )
        .is_ok());
        fails_with(b"[1]", &empty, "array has more than 0 elements");
        fails_with(br#"{"a":1}"#, &empty, "object has more than 0 members");
    }

    #[test]
    fn doc_json_duplicate_reported_before_member_count() {
        let l = JsonLimits {
            max_object_members: 1,
            ..limits()
        };
        fails_with(br#"{"a":1,"a":2}"#, &l, "duplicate member \"a\"");
    }
}
