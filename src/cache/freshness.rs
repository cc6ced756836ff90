//! How long a fetched metadata document may be served from the cache (docs/contract.md §4 and §11.3; CAC-03).
//!
//! The lifetime comes from the response's own HTTP caching headers (RFC 9111 §4.2.1), then is clamped into the
//! operator's bounds. The floor matters more than it looks: the headers belong to whoever publishes the
//! document, and without a floor a stranger could answer `no-store` and make the identity server fetch on every
//! authorization request. The cap keeps a changed or revoked document from being trusted for a year.
//!
//! `ETag` and `Last-Modified` are not handled here: they do not change the lifetime, only how the entry is
//! revalidated afterwards, so the caller reads them.

use std::time::{Duration, SystemTime};

/// RFC 9111 §1.2.2: a delta-seconds value too large to represent is taken as 2^31 seconds (about 68 years),
/// which the cap then brings down. It also keeps every sum and difference below well within `u64`.
const DELTA_SECONDS_MAX: u64 = 1 << 31;

/// The caching-related header values of one response, as received (not trimmed or combined).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheHeaders<'a> {
    /// Each `Cache-Control` field line, in order. A response may send several lines; they form one list.
    pub cache_control: Vec<&'a str>,
    /// The `Expires` value, if any.
    pub expires: Option<&'a str>,
    /// The `Age` value, if any: how long the response already sat in a cache on the way to us.
    pub age: Option<&'a str>,
    /// The `Date` value, if any: the origin's clock when it produced the response.
    pub date: Option<&'a str>,
}

/// The outcome: how long to keep the document, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Freshness {
    /// The lifetime to use, always within `[min_ttl, max_ttl]`.
    pub ttl: Duration,
    /// True when the headers asked for a specific lifetime — including "none at all" (`no-store`, `no-cache`,
    /// `max-age=0`, an Expires in the past, malformed values) — and the bounds changed it. False when the
    /// headers said nothing about freshness (`directive` "none"), since then `min_ttl` is simply the policy.
    /// Worth logging: it tells an operator that a publisher's wishes were overridden.
    pub clamped: bool,
    /// Which header decided: "s-maxage", "max-age", "expires", "no-store", "no-cache", or "none".
    pub directive: &'static str,
    /// False when the publisher forbade serving the response once stale (RFC 9111 §4.2.4): `no-store`,
    /// `no-cache`, `must-revalidate`, or their shared-cache forms `proxy-revalidate` and `s-maxage` (which
    /// carries proxy-revalidate's meaning, §5.2.2.10; the identity server's cache is a shared one). Such a
    /// document is used within its clamped lifetime only: never by stale-while-revalidate, never by
    /// stale-if-error (docs/contract.md §4, CAC-07).
    pub serve_stale: bool,
}

/// The remaining freshness of a response, clamped into `[min_ttl, max_ttl]`.
///
/// Order of precedence (the most restrictive directive wins, RFC 9111 §4.2.1):
/// 1. `no-store`, then `no-cache` (also in its qualified form `no-cache="field"`, read conservatively) give
///    `min_ttl`.
/// 2. `s-maxage`, else `max-age` (RFC 9111 §5.2.2.10 and §5.2.2.1), minus `Age`. We honour `s-maxage` because
///    the identity server's cache is in effect a shared cache: one fetched document is served to every user who
///    signs in with that client, which is exactly the situation `s-maxage` is addressed to. A publisher that
///    sets both (short `s-maxage` for CDNs and proxies, longer `max-age` for browsers) wants the shorter one from
///    us. When a directive appears several times the first occurrence is used, but if any occurrence is
///    malformed (`max-age=abc`, `max-age=-5`, `max-age=`) the response is treated as already stale (RFC 9111
///    §4.2.1 encourages this), which gives `min_ttl`. Values may be quoted (`max-age="60"`). Numbers beyond
///    2^31 count as 2^31 (RFC 9111 §1.2.2), so `max-age=99999999999999999999` simply reaches `max_ttl`.
/// 3. `Expires` (ignored when a max-age or s-maxage is present, RFC 9111 §5.3): `Expires - Date - Age` when
///    `Date` is valid (measuring against the origin's own clock cancels clock skew between us and it; `Age`
///    then accounts for time spent in intermediate caches since `Date`), or `Expires - now` when `Date` is
///    absent or invalid. An invalid `Expires` such as `0` means already expired (RFC 9111 §5.3).
/// 4. No freshness information at all gives `min_ttl`.
///
/// `Age` is delta-seconds; a malformed value is ignored. Directive names are matched ignoring ASCII case;
/// unknown directives (`public`, `must-revalidate`, `immutable`, ...) are ignored. `private` is ignored too:
/// it protects per-user responses, and our request carries no cookies or credentials, so the document cannot
/// be personal.
///
/// If `min_ttl > max_ttl` (which configuration forbids), `max_ttl` wins rather than panicking.
pub fn freshness(h: &CacheHeaders, now: SystemTime, min_ttl: Duration, max_ttl: Duration) -> Freshness {
    let directives = parse_cache_control(&h.cache_control);
    let has = |name: &str| directives.iter().any(|d| d.name.eq_ignore_ascii_case(name));
    let serve_stale = ![
        "no-store",
        "no-cache",
        "must-revalidate",
        "proxy-revalidate",
        "s-maxage",
    ]
    .iter()
    .any(|d| has(d));

    let (raw, directive) = if has("no-store") {
        (Some(Duration::ZERO), "no-store")
    } else if has("no-cache") {
        (Some(Duration::ZERO), "no-cache")
    } else if let Some(lifetime) = delta_directive(&directives, "s-maxage") {
        (Some(lifetime.saturating_sub(age(h))), "s-maxage")
    } else if let Some(lifetime) = delta_directive(&directives, "max-age") {
        (Some(lifetime.saturating_sub(age(h))), "max-age")
    } else if let Some(expires) = h.expires {
        (Some(expires_lifetime(expires, h.date, h.age, now)), "expires")
    } else {
        (None, "none")
    };

    match raw {
        None => Freshness {
            ttl: clamp(min_ttl, min_ttl, max_ttl),
            clamped: false,
            directive,
            serve_stale,
        },
        Some(raw) => {
            let ttl = clamp(raw, min_ttl, max_ttl);
            Freshness {
                ttl,
                clamped: ttl != raw,
                directive,
                serve_stale,
            }
        }
    }
}

/// Parses an HTTP-date: the preferred IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the obsolete RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`) forms that RFC 9110 §5.6.7
/// obliges recipients to accept. Surrounding whitespace is ignored; anything else, including a weekday that
/// does not fit the date, gives `None`.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s).ok()
}

/// One `name[=value]` element of a Cache-Control list.
struct Directive<'a> {
    name: &'a str,
    /// `None` when there is no `=`; `Some(None)` when a quoted string is unterminated or has a bad escape.
    value: Option<Option<String>>,
}

/// Splits Cache-Control field lines into directives, honouring quoted strings (a comma inside
/// `no-cache="a, b"` does not end the element) and backslash escapes inside them.
fn parse_cache_control<'a>(lines: &[&'a str]) -> Vec<Directive<'a>> {
    let mut out = Vec::new();
    for line in lines {
        let mut start = 0;
        let mut in_quotes = false;
        let mut escaped = false;
        for (i, c) in line.char_indices() {
            if in_quotes {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_quotes = false;
                }
            } else if c == '"' {
                in_quotes = true;
            } else if c == ',' {
                push_directive(&mut out, line.get(start..i).unwrap_or(""));
                start = i + 1;
            }
        }
        push_directive(&mut out, line.get(start..).unwrap_or(""));
    }
    out
}

fn push_directive<'a>(out: &mut Vec<Directive<'a>>, element: &'a str) {
    let element = element.trim();
    if element.is_empty() {
        return;
    }
    let directive = match element.split_once('=') {
        None => Directive {
            name: element,
            value: None,
        },
        Some((name, value)) => Directive {
            name: name.trim(),
            value: Some(unquote(value.trim())),
        },
    };
    out.push(directive);
}

/// A token as is, or the content of a quoted-string with its escapes resolved; `None` if a quoted string is
/// malformed.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value.to_owned());
    };
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.as_str().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

/// The lifetime given by the first `name` directive, `Some(ZERO)` (stale) if any occurrence is malformed, or
/// `None` if the directive is absent.
fn delta_directive(directives: &[Directive], name: &str) -> Option<Duration> {
    let mut first = None;
    let mut seen = false;
    for d in directives.iter().filter(|d| d.name.eq_ignore_ascii_case(name)) {
        seen = true;
        match d
            .value
            .as_ref()
            .and_then(|v| v.as_deref())
            .and_then(delta_seconds)
        {
            Some(secs) => {
                first.get_or_insert(secs);
            }
            None => return Some(Duration::ZERO),
        }
    }
    if seen {
        first.map(Duration::from_secs)
    } else {
        None
    }
}

/// RFC 9111 §1.2.2 delta-seconds: one or more ASCII digits, saturating at 2^31.
fn delta_seconds(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: u64 = 0;
    for b in s.bytes() {
        value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
        if value >= DELTA_SECONDS_MAX {
            return Some(DELTA_SECONDS_MAX);
        }
    }
    Some(value)
}

/// The `Age` header in seconds; malformed or absent counts as zero (RFC 9111 §5.1 lets recipients ignore it).
fn age(h: &CacheHeaders) -> Duration {
    h.age
        .and_then(|a| delta_seconds(a.trim()))
        .map_or(Duration::ZERO, Duration::from_secs)
}

/// Remaining lifetime from `Expires`, as described on [`freshness`].
fn expires_lifetime(expires: &str, date: Option<&str>, age_value: Option<&str>, now: SystemTime) -> Duration {
    let Some(expires) = parse_http_date(expires) else {
        return Duration::ZERO;
    };
    match date.and_then(parse_http_date) {
        Some(date) => {
            let age = age_value
                .and_then(|a| delta_seconds(a.trim()))
                .map_or(Duration::ZERO, Duration::from_secs);
            expires
                .duration_since(date)
                .unwrap_or(Duration::ZERO)
                .saturating_sub(age)
        }
        None => expires.duration_since(now).unwrap_or(Duration::ZERO),
    }
}

/// `value` brought into `[min, max]`; if the bounds are inverted, `max` wins (no panic, unlike `Ord::clamp`).
fn clamp(value: Duration, min: Duration, max: Duration) -> Duration {
    value.max(min).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(300);
    const MAX: Duration = Duration::from_secs(24 * 3600);

    fn now() -> SystemTime {
        // Sun, 06 Nov 1994 08:49:37 GMT
        SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    fn cc(lines: &[&'static str]) -> CacheHeaders<'static> {
        CacheHeaders {
            cache_control: lines.to_vec(),
            ..CacheHeaders::default()
        }
    }

    fn run(h: &CacheHeaders) -> Freshness {
        freshness(h, now(), MIN, MAX)
    }

    fn fresh(secs: u64, clamped: bool, directive: &'static str) -> Freshness {
        Freshness {
            ttl: Duration::from_secs(secs),
            clamped,
            directive,
            serve_stale: !matches!(directive, "no-store" | "no-cache" | "s-maxage"),
        }
    }

    #[test]
    fn cac_03_floor_cap_and_no_store() {
        assert_eq!(run(&cc(&["max-age=60"])), fresh(300, true, "max-age"));
        assert_eq!(run(&cc(&["max-age=31536000"])), fresh(86400, true, "max-age"));
        assert_eq!(run(&cc(&["no-store"])), fresh(300, true, "no-store"));
        assert_eq!(run(&cc(&["max-age=3600"])), fresh(3600, false, "max-age"));
        assert_eq!(run(&cc(&[])), fresh(300, false, "none"));
        assert_eq!(run(&CacheHeaders::default()), fresh(300, false, "none"));
    }

    #[test]
    fn cac_03_directive_table() {
        let cases: [(&[&'static str], u64, &str); 27] = [
            (&["public, max-age=120, must-revalidate"], 300, "max-age"),
            (&["public, max-age=1200, must-revalidate"], 1200, "max-age"),
            (&["MAX-AGE=5"], 300, "max-age"),
            (&["Max-Age=600"], 600, "max-age"),
            (&["max-age=\"600\""], 600, "max-age"),
            (&["max-age=\"6\\00\""], 600, "max-age"),
            (&["max-age = 600"], 600, "max-age"),
            (&["max-age=0"], 300, "max-age"),
            (&["max-age=abc"], 300, "max-age"),
            (&["max-age=-5"], 300, "max-age"),
            (&["max-age=+5000"], 300, "max-age"),
            (&["max-age=5000.5"], 300, "max-age"),
            (&["max-age="], 300, "max-age"),
            (&["max-age"], 300, "max-age"),
            (&["max-age=\"600"], 300, "max-age"),
            (&["max-age=\"600\"x"], 300, "max-age"),
            (&["max-age=99999999999999999999"], 86400, "max-age"),
            (&["max-age=18446744073709551616"], 86400, "max-age"),
            (&["max-age=600, no-cache"], 300, "no-cache"),
            (&["no-cache=\"Set-Cookie, X-Foo\", max-age=600"], 300, "no-cache"),
            (&["NO-STORE, max-age=600"], 300, "no-store"),
            (&["no-cache, no-store"], 300, "no-store"),
            (&["private, max-age=600"], 600, "max-age"),
            (&["s-maxage=1200, max-age=600"], 1200, "s-maxage"),
            (&["max-age=6000, s-maxage=600"], 600, "s-maxage"),
            (&["s-maxage=bad, max-age=600"], 300, "s-maxage"),
            (&["ext=\"a,max-age=9\", max-age=600"], 600, "max-age"),
        ];
        for (lines, secs, directive) in cases {
            let f = run(&cc(lines));
            assert_eq!(
                (f.ttl, f.directive),
                (Duration::from_secs(secs), directive),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn cac_07_no_stale_serving_where_http_forbids_it() {
        for (lines, serve_stale) in [
            (&[][..], true),
            (&["max-age=600"][..], true),
            (&["public, max-age=600, immutable"][..], true),
            (&["private, max-age=600"][..], true),
            (&["no-store"][..], false),
            (&["No-Cache"][..], false),
            (&["no-cache=\"Set-Cookie\", max-age=600"][..], false),
            (&["max-age=600, must-revalidate"][..], false),
            (&["max-age=600", "MUST-REVALIDATE"][..], false),
            (&["max-age=600, proxy-revalidate"][..], false),
            (&["s-maxage=600"][..], false),
            (&["ext=\"must-revalidate\", max-age=600"][..], true),
            (&["must-revalidated, max-age=600"][..], true),
        ] {
            assert_eq!(run(&cc(lines)).serve_stale, serve_stale, "{lines:?}");
        }
        // Expires alone says nothing about staleness.
        let h = CacheHeaders {
            expires: Some("Thu, 01 Jan 2099 00:00:00 GMT"),
            ..CacheHeaders::default()
        };
        assert!(run(&h).serve_stale);
        // With a zero floor, no-store and no-cache give a zero lifetime: fetched on every resolve.
        let f = freshness(&cc(&["no-store"]), now(), Duration::ZERO, MAX);
        assert_eq!((f.ttl, f.serve_stale), (Duration::ZERO, false));
    }

    #[test]
    fn cac_03_duplicated_headers_and_directives() {
        // Several Cache-Control lines form one list.
        assert_eq!(run(&cc(&["public", "max-age=900"])).ttl, Duration::from_secs(900));
        assert_eq!(run(&cc(&["max-age=900", "no-store"])).directive, "no-store");
        // First occurrence wins, across lines too.
        assert_eq!(
            run(&cc(&["max-age=900, max-age=4000"])).ttl,
            Duration::from_secs(900)
        );
        assert_eq!(
            run(&cc(&["max-age=4000", "max-age=900"])).ttl,
            Duration::from_secs(4000)
        );
        // Any malformed occurrence makes the response stale.
        assert_eq!(
            run(&cc(&["max-age=900", "max-age=x"])),
            fresh(300, true, "max-age")
        );
        assert_eq!(run(&cc(&["max-age=x, max-age=900"])), fresh(300, true, "max-age"));
        // Empty elements and stray commas are harmless.
        assert_eq!(run(&cc(&[",, max-age=900 ,", ""])).ttl, Duration::from_secs(900));
    }

    #[test]
    fn cac_03_age_is_subtracted() {
        let with_age = |cc_line: &'static str, age: &'static str| CacheHeaders {
            cache_control: vec![cc_line],
            age: Some(age),
            ..CacheHeaders::default()
        };
        assert_eq!(run(&with_age("max-age=600", "100")), fresh(500, false, "max-age"));
        assert_eq!(
            run(&with_age("max-age=600", " 100 ")),
            fresh(500, false, "max-age")
        );
        assert_eq!(run(&with_age("max-age=600", "700")), fresh(300, true, "max-age"));
        assert_eq!(run(&with_age("max-age=600", "600")), fresh(300, true, "max-age"));
        assert_eq!(
            run(&with_age("max-age=600", "99999999999999999999")),
            fresh(300, true, "max-age")
        );
        assert_eq!(
            run(&with_age("s-maxage=1000", "100")),
            fresh(900, false, "s-maxage")
        );
        // Malformed Age values are ignored.
        for bad in ["abc", "-100", "", "1.5", "100, 200"] {
            assert_eq!(
                run(&with_age("max-age=600", bad)),
                fresh(600, false, "max-age"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn cac_03_expires_with_and_without_date() {
        let h = |expires: &'static str, date: Option<&'static str>, age: Option<&'static str>| CacheHeaders {
            cache_control: vec![],
            expires: Some(expires),
            date,
            age,
        };
        let date = Some("Sun, 06 Nov 1994 08:49:37 GMT");
        // Expires - Date.
        assert_eq!(
            run(&h("Sun, 06 Nov 1994 09:49:37 GMT", date, None)),
            fresh(3600, false, "expires")
        );
        // Date is the origin's clock: a skewed `now` does not matter.
        let skewed = freshness(
            &h("Sun, 06 Nov 1994 09:49:37 GMT", date, None),
            now() + Duration::from_secs(7200),
            MIN,
            MAX,
        );
        assert_eq!(skewed.ttl, Duration::from_secs(3600));
        // Age is subtracted when Date anchors the lifetime.
        assert_eq!(
            run(&h("Sun, 06 Nov 1994 09:49:37 GMT", date, Some("600"))),
            fresh(3000, false, "expires")
        );
        // Without Date (or with a bad one), Expires - now.
        assert_eq!(
            run(&h("Sun, 06 Nov 1994 10:49:37 GMT", None, None)),
            fresh(7200, false, "expires")
        );
        assert_eq!(
            run(&h(
                "Sun, 06 Nov 1994 10:49:37 GMT",
                Some("yesterday"),
                Some("600")
            )),
            fresh(7200, false, "expires")
        );
        // Obsolete formats.
        assert_eq!(
            run(&h("Sunday, 06-Nov-94 10:49:37 GMT", None, None)).ttl,
            Duration::from_secs(7200)
        );
        assert_eq!(
            run(&h("Sun Nov  6 10:49:37 1994", None, None)).ttl,
            Duration::from_secs(7200)
        );
        // Far future is capped.
        assert_eq!(
            run(&h("Fri, 31 Dec 9999 23:59:59 GMT", date, None)),
            fresh(86400, true, "expires")
        );
    }

    #[test]
    fn cac_03_expires_past_or_invalid_is_expired() {
        let h = |expires: &'static str, date: Option<&'static str>| CacheHeaders {
            expires: Some(expires),
            date,
            ..CacheHeaders::default()
        };
        let date = Some("Sun, 06 Nov 1994 08:49:37 GMT");
        for expires in ["Sun, 06 Nov 1994 07:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT"] {
            assert_eq!(run(&h(expires, date)), fresh(300, true, "expires"), "{expires}");
            assert_eq!(run(&h(expires, None)), fresh(300, true, "expires"), "{expires}");
        }
        for expires in [
            "0",
            "-1",
            "",
            "tomorrow",
            "Mon, 06 Nov 1994 10:49:37 GMT",
            "Sat, 32 Dec 9999 00:00:00 GMT",
        ] {
            assert_eq!(run(&h(expires, date)), fresh(300, true, "expires"), "{expires:?}");
        }
        // max-age takes precedence over Expires, whatever Expires says.
        let both = CacheHeaders {
            cache_control: vec!["max-age=900"],
            expires: Some("0"),
            ..CacheHeaders::default()
        };
        assert_eq!(run(&both), fresh(900, false, "max-age"));
        // ...but no-cache still beats both.
        let both = CacheHeaders {
            cache_control: vec!["no-cache"],
            expires: Some("Sun, 06 Nov 1994 10:49:37 GMT"),
            ..CacheHeaders::default()
        };
        assert_eq!(run(&both).directive, "no-cache");
    }

    #[test]
    fn cac_03_bounds_edge_cases() {
        // A zero floor honours no-store literally.
        let f = freshness(&cc(&["no-store"]), now(), Duration::ZERO, MAX);
        assert_eq!(f, fresh(0, false, "no-store"));
        // Inverted bounds do not panic; the cap wins.
        let f = freshness(&cc(&["max-age=10"]), now(), MAX, MIN);
        assert_eq!(f.ttl, MIN);
        let f = freshness(&cc(&[]), now(), MAX, MIN);
        assert_eq!(f.ttl, MIN);
        // Exactly at the bounds is not a clamp.
        assert_eq!(run(&cc(&["max-age=300"])), fresh(300, false, "max-age"));
        assert_eq!(run(&cc(&["max-age=86400"])), fresh(86400, false, "max-age"));
        assert_eq!(run(&cc(&["max-age=86401"])), fresh(86400, true, "max-age"));
    }

    #[test]
    fn cac_03_garbage_headers_never_panic() {
        let junk = [
            "\"",
            "\\",
            "=",
            "==",
            "max-age=\"\\",
            ",\",",
            "max-age=\u{0}",
            "é=é",
            "max-age=٣",
        ];
        for j in junk {
            let f = run(&CacheHeaders {
                cache_control: vec![j],
                expires: Some(j),
                age: Some(j),
                date: Some(j),
            });
            assert!(f.ttl >= MIN && f.ttl <= MAX, "{j:?}");
        }
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        let want = Some(now());
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), want);
        assert_eq!(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT "), want);
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), want);
        assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), want);
        for bad in [
            "",
            "0",
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Thu, 01 Jan 1969 00:00:00 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT é",
            "1994-11-06T08:49:37Z",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }
}
