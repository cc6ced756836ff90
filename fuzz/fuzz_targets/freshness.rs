//! Cache-Control / Expires / Age / Date parsing (docs/contract.md §4, §11.3). Input: 8 bytes for the clock and the
//! bounds, then header values separated by newlines: lines starting `e:` are Expires, `a:` Age, `d:` Date, any
//! other line is a Cache-Control field line. The lifetime must always lie within the bounds.
#![no_main]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cimd::internals::{freshness, parse_http_date, CacheHeaders};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (head, rest) = data.split_at(8);
    let now_s = u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]])) * 4;
    let min = Duration::from_secs(u64::from(u16::from_le_bytes([head[4], head[5]])) * 40);
    let max = Duration::from_secs(u64::from(u16::from_le_bytes([head[6], head[7]])) * 40);
    let now = UNIX_EPOCH + Duration::from_secs(now_s);
    let text = String::from_utf8_lossy(rest);
    let mut headers = CacheHeaders::default();
    for line in text.split('\n') {
        if let Some(v) = line.strip_prefix("e:") {
            headers.expires = Some(v);
        } else if let Some(v) = line.strip_prefix("a:") {
            headers.age = Some(v);
        } else if let Some(v) = line.strip_prefix("d:") {
            headers.date = Some(v);
        } else {
            headers.cache_control.push(line);
        }
    }
    let f = freshness(&headers, now, min, max);
    if min <= max {
        assert!(min <= f.ttl && f.ttl <= max, "{f:?} outside [{min:?}, {max:?}]");
    } else {
        assert_eq!(f.ttl, max);
    }
    for v in [headers.expires, headers.date].into_iter().flatten() {
        if let Some(t) = parse_http_date(v) {
            assert!(t >= UNIX_EPOCH && t < SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_800));
        }
    }
});
