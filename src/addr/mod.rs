//! Special-use IP address classification (docs/contract.md §2 "SSRF"; requirements rows 41-42, SSRF-01..05) and
//! recognition of every numeric spelling of an IP host (docs/contract.md §11.2: IP-literal client_id hosts).
//!
//! # Why this module exists
//!
//! The fetcher resolves a client_id host once and refuses the fetch when *any* returned address is special-use
//! (`blocked_address`). An attacker who controls a client_id also controls its DNS, so the classifier is the
//! last line between a stranger's URL and the operator's internal network (cloud metadata at 169.254.169.254,
//! admin ports on loopback, RFC 1918 services). It therefore fails closed: an address is public only when it
//! lies in IPv4 unicast space outside every special-purpose block, or in IPv6 global unicast `2000::/3` outside
//! every special-purpose block.
//!
//! # What is covered
//!
//! * The complete IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its updates), plus multicast
//!   `224.0.0.0/4`, which lives in a separate registry but is never a web server.
//! * The complete IANA IPv6 Special-Purpose Address Registry (including 3fff::/20 from RFC 9637, 5f00::/16
//!   from RFC 9602, 100:0:0:1::/64 from RFC 9780, 2001:30::/28 DETs), the deprecated IPv4-compatible `::/96`
//!   and site-local `fec0::/10`, unique-local `fc00::/7`, link-local `fe80::/10`, multicast `ff00::/8`, and
//!   everything outside `2000::/3` (unallocated or reserved by the IPv6 addressing architecture).
//!
//! # Deliberate choices (fail closed)
//!
//! * Some registry entries are marked "globally reachable": 192.0.0.9/32 (PCP anycast), 192.0.0.10/32 (TURN
//!   anycast), 192.31.196.0/24 and 192.175.48.0/24 (AS112), 192.52.193.0/24 (AMT), 2001:1::1-3 (anycast),
//!   2001:3::/32 (AMT), 2001:4:112::/48 and 2620:4f:8000::/48 (AS112), 2001:20::/28 (ORCHIDv2) and
//!   2001:30::/28 (drone DETs). They are still blocked: each is a protocol service address, an anycast sink or
//!   an identifier space, never the home of an HTTPS metadata document. Anycast addresses in particular reach
//!   whichever instance is *nearest to the server*, often one inside the operator's own network, which is
//!   exactly what SSRF protection must prevent. Blocking them costs nothing legitimate.
//! * Every IPv6 form that embeds an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64 well-known and local-use
//!   prefixes, 6to4, Teredo) is special-use whatever the embedded address is: docs/contract.md §2 lists them, and
//!   judging them by their embedded IPv4 would make the result depend on how the host's stack or a NAT64
//!   gateway translates them. [`embedded_ipv4`] and [`is_loopback_any_form`] exist so that the one narrow
//!   exception (`allow_loopback`, dev/test only, SSRF-04) can still recognise `::ffff:127.0.0.1`, which some
//!   resolvers return for `localhost`.
//!
//! Everything here is a pure function over integers: no allocation, no I/O, no packet is ever sent.

mod policy;

pub use policy::AddressPolicy;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why an address is special-use: one variant per family of IANA special-purpose registry entries (plus the
/// architecture-level blocks the registries leave out). The fetcher reports it in the `blocked_address`
/// description so that an operator can see *which* rule fired, and the loopback exception keys on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpecialUse {
    /// `0.0.0.0/32` or `::/128`: "this host"; connecting to it reaches the local machine on many stacks.
    Unspecified,
    /// `0.0.0.0/8` (other than `0.0.0.0`): "this network" (RFC 791, RFC 1122); not a valid destination.
    ThisNetwork,
    /// `127.0.0.0/8` or `::1/128`: the server itself. Only this kind can be relaxed, by `allow_loopback`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918): the operator's internal networks.
    Private,
    /// `100.64.0.0/10` (RFC 6598): carrier-grade NAT shared space; internal to a provider's network.
    SharedCgnat,
    /// `169.254.0.0/16` or `fe80::/10`: link-local; hosts cloud metadata services (169.254.169.254).
    LinkLocal,
    /// `fc00::/7` (RFC 4193): IPv6 unique-local, the IPv6 counterpart of private space.
    UniqueLocal,
    /// `fec0::/10` (RFC 3879, deprecated): site-local; old stacks still route it internally.
    SiteLocal,
    /// `224.0.0.0/4` or `ff00::/8`: multicast; never a unicast HTTPS server.
    Multicast,
    /// `255.255.255.255/32`: limited broadcast.
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`: documentation
    /// only (RFC 5737, RFC 3849, RFC 9637); a document there is a misconfiguration or a trick.
    Documentation,
    /// `198.18.0.0/15` or `2001:2::/48`: benchmarking labs (RFC 2544, RFC 5180); often internal test gear.
    Benchmarking,
    /// `240.0.0.0/4`, and every IPv6 address outside `2000::/3` not listed more precisely: reserved or
    /// unallocated, so not globally routable.
    Reserved,
    /// `192.0.0.0/24` or `2001::/23` outside their more specific entries: IETF protocol assignments.
    ProtocolAssignments,
    /// `192.0.0.0/29` (RFC 6333, RFC 7335): DS-Lite / IPv4 service continuity; internal to a CPE.
    DsLite,
    /// `192.0.0.8/32` (RFC 7600) or `100:0:0:1::/64` (RFC 9780): dummy addresses and prefixes.
    Dummy,
    /// `192.0.0.9/32` (PCP), `192.0.0.10/32` (TURN), `2001:1::1/128` (PCP), `2001:1::2/128` (TURN),
    /// `2001:1::3/128` (DNS-SD SRP): protocol anycast; reaches the nearest, possibly internal, instance.
    ProtocolAnycast,
    /// `192.0.0.170/32`, `192.0.0.171/32` (RFC 7050): NAT64/DNS64 discovery.
    Nat64Discovery,
    /// `192.31.196.0/24`, `192.175.48.0/24`, `2001:4:112::/48`, `2620:4f:8000::/48` (RFC 7534, RFC 7535):
    /// AS112 sinks for reverse-DNS junk.
    As112,
    /// `192.52.193.0/24` or `2001:3::/32` (RFC 7450): AMT relay anycast.
    AmtRelay,
    /// `192.88.99.0/24` (RFC 3068, deprecated by RFC 7526): 6to4 relay anycast.
    SixToFourRelay,
    /// `192.88.99.2/32` (RFC 6751): 6a44 relay anycast.
    SixA44Relay,
    /// `64:ff9b::/96` (RFC 6052) or `64:ff9b:1::/48` (RFC 8215): NAT64 translation prefixes embedding IPv4.
    Nat64,
    /// `2002::/16` (RFC 3056): 6to4, embedding an IPv4 address in bits 16..48.
    SixToFour,
    /// `2001::/32` (RFC 4380): Teredo, embedding an obfuscated IPv4 client address.
    Teredo,
    /// `::ffff:0:0/96` (RFC 4291): IPv4-mapped; the socket layer connects to the embedded IPv4 address.
    Ipv4Mapped,
    /// `::/96` other than `::` and `::1` (RFC 4291, deprecated): IPv4-compatible.
    Ipv4Compatible,
    /// `100::/64` (RFC 6666): discard-only (remote triggered black hole).
    DiscardOnly,
    /// `2001:10::/28` (RFC 4843, deprecated) or `2001:20::/28` (RFC 7343): ORCHID cryptographic identifiers.
    Orchid,
    /// `2001:30::/28` (RFC 9374): Drone Remote ID Protocol entity tags; identifiers, not hosts.
    DroneRemoteId,
    /// `5f00::/16` (RFC 9602): SRv6 segment identifiers; instructions to routers, not hosts.
    Srv6Sid,
}

impl SpecialUse {
    /// Every variant, so that tests and front ends can enumerate the stable names.
    pub const ALL: [SpecialUse; 31] = [
        SpecialUse::Unspecified,
        SpecialUse::ThisNetwork,
        SpecialUse::Loopback,
        SpecialUse::Private,
        SpecialUse::SharedCgnat,
        SpecialUse::LinkLocal,
        SpecialUse::UniqueLocal,
        SpecialUse::SiteLocal,
        SpecialUse::Multicast,
        SpecialUse::Broadcast,
        SpecialUse::Documentation,
        SpecialUse::Benchmarking,
        SpecialUse::Reserved,
        SpecialUse::ProtocolAssignments,
        SpecialUse::DsLite,
        SpecialUse::Dummy,
        SpecialUse::ProtocolAnycast,
        SpecialUse::Nat64Discovery,
        SpecialUse::As112,
        SpecialUse::AmtRelay,
        SpecialUse::SixToFourRelay,
        SpecialUse::SixA44Relay,
        SpecialUse::Nat64,
        SpecialUse::SixToFour,
        SpecialUse::Teredo,
        SpecialUse::Ipv4Mapped,
        SpecialUse::Ipv4Compatible,
        SpecialUse::DiscardOnly,
        SpecialUse::Orchid,
        SpecialUse::DroneRemoteId,
        SpecialUse::Srv6Sid,
    ];

    /// The stable snake_case name, used in error descriptions and logs (never renamed within a major version,
    /// because operators grep for it).
    pub const fn as_str(self) -> &'static str {
        match self {
            SpecialUse::Unspecified => "unspecified",
            SpecialUse::ThisNetwork => "this_network",
            SpecialUse::Loopback => "loopback",
            SpecialUse::Private => "private",
            SpecialUse::SharedCgnat => "shared_cgnat",
            SpecialUse::LinkLocal => "link_local",
            SpecialUse::UniqueLocal => "unique_local",
            SpecialUse::SiteLocal => "site_local",
            SpecialUse::Multicast => "multicast",
            SpecialUse::Broadcast => "broadcast",
            SpecialUse::Documentation => "documentation",
            SpecialUse::Benchmarking => "benchmarking",
            SpecialUse::Reserved => "reserved",
            SpecialUse::ProtocolAssignments => "protocol_assignments",
            SpecialUse::DsLite => "ds_lite",
            SpecialUse::Dummy => "dummy",
            SpecialUse::ProtocolAnycast => "protocol_anycast",
            SpecialUse::Nat64Discovery => "nat64_discovery",
            SpecialUse::As112 => "as112",
            SpecialUse::AmtRelay => "amt_relay",
            SpecialUse::SixToFourRelay => "six_to_four_relay",
            SpecialUse::SixA44Relay => "six_a44_relay",
            SpecialUse::Nat64 => "nat64",
            SpecialUse::SixToFour => "six_to_four",
            SpecialUse::Teredo => "teredo",
            SpecialUse::Ipv4Mapped => "ipv4_mapped",
            SpecialUse::Ipv4Compatible => "ipv4_compatible",
            SpecialUse::DiscardOnly => "discard_only",
            SpecialUse::Orchid => "orchid",
            SpecialUse::DroneRemoteId => "drone_remote_id",
            SpecialUse::Srv6Sid => "srv6_sid",
        }
    }

    /// True only for [`SpecialUse::Loopback`] (`127.0.0.0/8`, `::1`). Embedded-IPv4 forms such as
    /// `::ffff:127.0.0.1` classify as their form, not as loopback; use [`is_loopback_any_form`] to decide the
    /// `allow_loopback` exception, which must recognise them.
    pub const fn is_loopback(self) -> bool {
        matches!(self, SpecialUse::Loopback)
    }
}

impl fmt::Display for SpecialUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One table row: the addresses whose top `prefix` bits equal those of `net`. IPv4 rows hold the 32-bit address
/// in the low bits of `net`, so that both families share one row type, one mask and one lookup.
#[derive(Clone, Copy, Debug)]
struct Block {
    net: u128,
    prefix: u8,
    kind: SpecialUse,
}

/// Address widths in bits.
const V4_BITS: u32 = 32;
const V6_BITS: u32 = 128;

/// Netmask for a prefix length of an address `width` bits wide (32 or 128), in the low `width` bits; lengths
/// above the width behave as the width (the tables never use them).
const fn mask(width: u32, prefix: u8) -> u128 {
    let prefix = if prefix as u32 > width {
        width
    } else {
        prefix as u32
    };
    if prefix == 0 {
        0
    } else {
        (u128::MAX << (128 - prefix)) >> (128 - width)
    }
}

/// Builds an IPv4 row from dotted-quad bytes, so the table reads like the registry.
const fn b4(a: u8, b: u8, c: u8, d: u8, prefix: u8, kind: SpecialUse) -> Block {
    Block {
        net: u32::from_be_bytes([a, b, c, d]) as u128,
        prefix,
        kind,
    }
}

/// Builds an IPv6 row from the eight 16-bit groups, so the table reads like the registry.
const fn b6(s: [u16; 8], prefix: u8, kind: SpecialUse) -> Block {
    Block {
        net: Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]).to_bits(),
        prefix,
        kind,
    }
}

/// The IPv4 table. First match wins, so every more specific block precedes the block that contains it
/// (checked by the tests and at compile time that no row has host bits set).
const V4_TABLE: &[Block] = {
    use SpecialUse::*;
    &[
        b4(0, 0, 0, 0, 32, Unspecified),
        b4(0, 0, 0, 0, 8, ThisNetwork),
        b4(10, 0, 0, 0, 8, Private),
        b4(100, 64, 0, 0, 10, SharedCgnat),
        b4(127, 0, 0, 0, 8, Loopback),
        b4(169, 254, 0, 0, 16, LinkLocal),
        b4(172, 16, 0, 0, 12, Private),
        b4(192, 0, 0, 0, 29, DsLite),
        b4(192, 0, 0, 8, 32, Dummy),
        b4(192, 0, 0, 9, 32, ProtocolAnycast),
        b4(192, 0, 0, 10, 32, ProtocolAnycast),
        b4(192, 0, 0, 170, 32, Nat64Discovery),
        b4(192, 0, 0, 171, 32, Nat64Discovery),
        b4(192, 0, 0, 0, 24, ProtocolAssignments),
        b4(192, 0, 2, 0, 24, Documentation),
        b4(192, 31, 196, 0, 24, As112),
        b4(192, 52, 193, 0, 24, AmtRelay),
        b4(192, 88, 99, 2, 32, SixA44Relay),
        b4(192, 88, 99, 0, 24, SixToFourRelay),
        b4(192, 168, 0, 0, 16, Private),
        b4(192, 175, 48, 0, 24, As112),
        b4(198, 18, 0, 0, 15, Benchmarking),
        b4(198, 51, 100, 0, 24, Documentation),
        b4(203, 0, 113, 0, 24, Documentation),
        b4(224, 0, 0, 0, 4, Multicast),
        b4(255, 255, 255, 255, 32, Broadcast),
        b4(240, 0, 0, 0, 4, Reserved),
    ]
};

/// The IPv6 table. First match wins (more specific first); the last three rows cover everything outside
/// global unicast `2000::/3`, so any address not listed and not in `2000::/3` is [`SpecialUse::Reserved`].
const V6_TABLE: &[Block] = {
    use SpecialUse::*;
    &[
        b6([0, 0, 0, 0, 0, 0, 0, 0], 128, Unspecified),
        b6([0, 0, 0, 0, 0, 0, 0, 1], 128, Loopback),
        b6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, Ipv4Mapped),
        b6([0, 0, 0, 0, 0, 0, 0, 0], 96, Ipv4Compatible),
        b6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, Nat64),
        b6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, Nat64),
        b6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, DiscardOnly),
        b6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, Dummy),
        b6([0x2001, 1, 0, 0, 0, 0, 0, 1], 128, ProtocolAnycast),
        b6([0x2001, 1, 0, 0, 0, 0, 0, 2], 128, ProtocolAnycast),
        b6([0x2001, 1, 0, 0, 0, 0, 0, 3], 128, ProtocolAnycast),
        b6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, Teredo),
        b6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, Benchmarking),
        b6([0x2001, 3, 0, 0, 0, 0, 0, 0], 32, AmtRelay),
        b6([0x2001, 4, 0x112, 0, 0, 0, 0, 0], 48, As112),
        b6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, Orchid),
        b6([0x2001, 0x20, 0, 0, 0, 0, 0, 0], 28, Orchid),
        b6([0x2001, 0x30, 0, 0, 0, 0, 0, 0], 28, DroneRemoteId),
        b6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, ProtocolAssignments),
        b6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, Documentation),
        b6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, SixToFour),
        b6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0], 48, As112),
        b6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, Documentation),
        b6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, Srv6Sid),
        b6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, UniqueLocal),
        b6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, LinkLocal),
        b6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, SiteLocal),
        b6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, Multicast),
        b6([0, 0, 0, 0, 0, 0, 0, 0], 3, Reserved),
        b6([0x4000, 0, 0, 0, 0, 0, 0, 0], 2, Reserved),
        b6([0x8000, 0, 0, 0, 0, 0, 0, 0], 1, Reserved),
    ]
};

/// Compile-time guard: a row with host bits set would silently never match, a fail-open bug.
const fn check_rows(table: &[Block], width: u32) {
    let mut i = 0;
    while i < table.len() {
        let row = table[i];
        assert!(
            row.net & !mask(width, row.prefix) == 0,
            "table row has host bits set"
        );
        assert!(row.prefix as u32 <= width, "prefix too long");
        i += 1;
    }
}

const _: () = {
    check_rows(V4_TABLE, V4_BITS);
    check_rows(V6_TABLE, V6_BITS);
};

/// Classifies an address against the IANA special-purpose registries.
///
/// `None` means globally routable: the fetcher may connect. `Some(kind)` means special-use: the fetcher must not
/// connect (`blocked_address`, SSRF-01/02) unless an explicit exception applies (`allow_loopback` via
/// [`is_loopback_any_form`], or the private-network allowlist). Embedded-IPv4 IPv6 forms return their form
/// (for example [`SpecialUse::Ipv4Mapped`]) regardless of the embedded address.
pub fn classify(addr: IpAddr) -> Option<SpecialUse> {
    match addr {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// [`classify`] for an IPv4 address; a linear scan of a 27-row table, no allocation.
pub fn classify_v4(addr: Ipv4Addr) -> Option<SpecialUse> {
    lookup(V4_TABLE, V4_BITS, u128::from(addr.to_bits()))
}

/// [`classify`] for an IPv6 address; a linear scan of a 31-row table, no allocation.
pub fn classify_v6(addr: Ipv6Addr) -> Option<SpecialUse> {
    lookup(V6_TABLE, V6_BITS, addr.to_bits())
}

/// The kind of the first row that contains `bits`, an address `width` bits wide.
fn lookup(table: &[Block], width: u32, bits: u128) -> Option<SpecialUse> {
    table
        .iter()
        .find(|row| bits & mask(width, row.prefix) == row.net)
        .map(|row| row.kind)
}

/// The IPv4 address embedded in an IPv6 address, for the forms that carry one:
///
/// * IPv4-mapped `::ffff:a.b.c.d` and IPv4-compatible `::a.b.c.d` (not `::` or `::1`): the last 32 bits;
/// * NAT64 well-known `64:ff9b::/96`: the last 32 bits (RFC 6052);
/// * NAT64 local-use `64:ff9b:1::/48`: bits 48..64 and 72..88, the RFC 6052 layout for a /48 prefix (bits
///   64..72 are the reserved "u" octet). Operators may carve longer prefixes out of this block, so the
///   result is the /48 reading, not necessarily what the local translator does; the address is blocked anyway;
/// * 6to4 `2002::/16`: bits 16..48 (RFC 3056);
/// * Teredo `2001::/32`: the client address, the last 32 bits inverted (RFC 4380).
///
/// Why: all of these are blocked as forms, but the dev-only loopback exception and error descriptions need to
/// know what they point at (for example `::ffff:127.0.0.1`, which some resolvers return for `localhost`).
/// Returns `None` for every other address. The obsolete IPv4-translated `::ffff:0:0:0/96` is deliberately not
/// decoded: it is blocked as reserved and never counts as loopback.
pub fn embedded_ipv4(addr: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = addr.to_bits();
    let o = addr.octets();
    let low32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let high96 = bits >> 32;
    if high96 == 0xffff {
        return Some(low32);
    }
    if high96 == 0 && bits > 1 {
        return Some(low32);
    }
    if high96 == 0x0064_ff9b_0000_0000_0000_0000 {
        return Some(low32);
    }
    if bits >> 80 == 0x0064_ff9b_0001 {
        return Some(Ipv4Addr::new(o[6], o[7], o[9], o[10]));
    }
    if bits >> 112 == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    if bits >> 96 == 0x2001_0000 {
        return Some(Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]));
    }
    None
}

/// True if the address is loopback in any spelling: `127.0.0.0/8`, `::1`, or an IPv6 form whose embedded
/// IPv4 address (see [`embedded_ipv4`]) is in `127.0.0.0/8` (`::ffff:127.0.0.1`, `::127.0.0.1`,
/// `64:ff9b::127.0.0.1`, `2002:7f00:1::`, Teredo with client 127.0.0.1).
///
/// Why: `allow_loopback` (docs/contract.md §2, SSRF-04, dev/test only) must relax *only* loopback, yet resolvers
/// may answer `localhost` with a mapped address that [`classify`] reports as [`SpecialUse::Ipv4Mapped`].
/// The unspecified address (`0.0.0.0`, `::`) is not loopback here even though some stacks route it to the
/// local host: the exception stays as narrow as its name.
pub fn is_loopback_any_form(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6 == Ipv6Addr::LOCALHOST || embedded_ipv4(v6).is_some_and(|v4| v4.is_loopback()),
    }
}

/// Parses a host that any URL parser or `inet_aton` would turn into an IP address, in every numeric spelling:
///
/// * IPv4 per the WHATWG URL standard's IPv4 parser (which mirrors `inet_aton`): 1 to 4 dot-separated parts,
///   each decimal, octal (leading `0`, e.g. `0177.0.0.1`) or hex (`0x`/`0X`, e.g. `0x7f.1`, with `0x` alone
///   meaning 0); the last part fills the remaining bytes (`127.1`, `2130706433`); one trailing dot is allowed
///   (`127.0.0.1.`);
/// * IPv6 literals with or without brackets (`[::1]`, `::1`), with a zone id (`fe80::1%25eth0`,
///   `[fe80::1%eth0]`), which is dropped: a zoned address is still an IP literal.
///
/// Returns `None` for names and for numeric-looking hosts that are not valid addresses (`256.0.0.1`);
/// combine with [`looks_numeric`] to reject those too. Why: docs/contract.md §11.2 makes every IP-literal
/// client_id host `invalid_client_id_url`, and an attacker will try the spellings a naive check misses.
/// The input is a host as a URL parser sees it after percent-decoding and IDNA mapping (the `url` crate's
/// host string); non-ASCII digits are not numbers here.
pub fn parse_numeric_host(host: &str) -> Option<IpAddr> {
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        return parse_ipv6_with_zone(inner).map(IpAddr::V6);
    }
    if host.contains(':') {
        return parse_ipv6_with_zone(host).map(IpAddr::V6);
    }
    parse_ipv4_whatwg(host).map(IpAddr::V4)
}

/// True when the host is an IP-address *attempt*: it starts with `[` or contains `:` (IPv6), or its last
/// dot-separated label (after one trailing dot) is all ASCII digits or a `0x` hex number. This is the
/// WHATWG "ends in a number" rule: such a host is parsed as IPv4 and is invalid if that fails, so
/// `256.0.0.1`, `1.2.3.999` and `example.0x1f` are IP-literal-ish and must be rejected like real literals
/// rather than treated as domain names. `0x.example.com` and `1.2.3.example` are names.
pub fn looks_numeric(host: &str) -> bool {
    if host.starts_with('[') || host.contains(':') {
        return true;
    }
    let body = match host.strip_suffix('.') {
        Some("") => return false,
        Some(rest) => rest,
        None => host,
    };
    let last = body.rsplit('.').next().unwrap_or(body);
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())) || parse_ipv4_number(last).is_some()
}

/// An IPv6 literal without brackets, with an optional zone id after `%` (raw or percent-encoded as `%25`).
fn parse_ipv6_with_zone(s: &str) -> Option<Ipv6Addr> {
    let addr = match s.split_once('%') {
        Some((addr, _zone)) => addr,
        None => s,
    };
    addr.parse().ok()
}

/// The WHATWG URL standard's IPv4 parser (validation errors ignored, failures returned as `None`).
fn parse_ipv4_whatwg(host: &str) -> Option<Ipv4Addr> {
    let body = host.strip_suffix('.').unwrap_or(host);
    let mut numbers = [0u64; 4];
    let mut count = 0usize;
    for part in body.split('.') {
        let slot = numbers.get_mut(count)?; // a fifth part: failure
        *slot = parse_ipv4_number(part)?;
        count += 1;
    }
    let (last, init) = numbers.get(..count)?.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    // The last part fills the bytes the others left: 4 parts -> 1 byte, 1 part -> 4 bytes.
    let last_bytes = 5u32.checked_sub(u32::try_from(count).ok()?)?;
    if *last >= 1u64.checked_shl(8 * last_bytes)? {
        return None;
    }
    let head = init.iter().fold(0u64, |acc, &n| (acc << 8) | n);
    let value = (head << (8 * last_bytes)) | *last;
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

/// The WHATWG IPv4 number parser: `0x`/`0X` hex (empty digits mean 0), leading-zero octal, else decimal.
/// `None` means "not a number"; values too large for `u64` saturate (they fail the range check anyway, but
/// they are still numbers for [`looks_numeric`]).
fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
        (hex, 16u32)
    } else if part.len() >= 2 {
        match part.strip_prefix('0') {
            Some(oct) => (oct, 8),
            None => (part, 10),
        }
    } else {
        (part, 10)
    };
    let mut value = 0u64;
    for c in digits.chars() {
        let digit = c.to_digit(radix)?;
        value = value
            .saturating_mul(u64::from(radix))
            .saturating_add(u64::from(digit));
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::SpecialUse::*;
    use super::*;
    use crate::test_tables::section;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or_else(|e| panic!("test literal {s:?} does not parse: {e}"))
    }

    fn v6(s: &str) -> Ipv6Addr {
        s.parse()
            .unwrap_or_else(|e| panic!("test literal {s:?} does not parse: {e}"))
    }

    /// The classifier's case tables (src/addr/testdata/registry.tsv) and the numeric hosts.
    const REGISTRY: &str = include_str!("testdata/registry.tsv");
    const NUMERIC_HOSTS: &str = include_str!("testdata/numeric_hosts.tsv");

    /// A kind by its stable name; "public" is `None`.
    fn kind(name: &str) -> Option<SpecialUse> {
        (name != "public").then(|| special(name))
    }

    fn special(name: &str) -> SpecialUse {
        SpecialUse::ALL
            .into_iter()
            .find(|k| k.as_str() == name)
            .unwrap_or_else(|| panic!("no kind is named {name:?}"))
    }

    /// `classify` answers every case of a boundary section as the table says.
    fn boundaries(name: &str) {
        for [addr, want] in section(REGISTRY, name) {
            assert_eq!(classify(ip(&addr)), kind(&want), "{addr}");
        }
    }

    /// Every boundary of every block: first and last address, and the addresses just outside.
    #[test]
    fn ssrf_01_ipv4_registry_boundaries() {
        boundaries("ssrf_01_ipv4_registry_boundaries");
    }

    #[test]
    fn ssrf_01_ipv6_registry_boundaries() {
        boundaries("ssrf_01_ipv6_registry_boundaries");
    }

    #[test]
    fn ssrf_01_known_public_addresses_are_fetchable() {
        for addr in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "140.82.112.3",
            "2606:2800:220:1::248",
            "2a00:1450:4001::1",
            "2001:4860:4860::8888",
            "2620:fe::fe",
        ] {
            assert_eq!(classify(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn ssrf_01_requirement_list_is_blocked() {
        let cases: &[(&str, SpecialUse)] = &[
            ("127.0.0.1", Loopback),
            ("10.0.0.5", Private),
            ("169.254.169.254", LinkLocal),
            ("0.0.0.0", Unspecified),
            ("::1", Loopback),
            ("fc00::1", UniqueLocal),
            ("::ffff:127.0.0.1", Ipv4Mapped),
            ("100.64.0.1", SharedCgnat),
        ];
        for &(addr, want) in cases {
            assert_eq!(classify(ip(addr)), Some(want), "{addr}");
        }
    }

    /// The registry entries marked "globally reachable" are blocked anyway (module docs explain why).
    #[test]
    fn ssrf_01_globally_reachable_protocol_addresses_fail_closed() {
        for addr in [
            "192.0.0.9",
            "192.0.0.10",
            "192.31.196.1",
            "192.52.193.1",
            "192.175.48.1",
            "2001:1::1",
            "2001:1::2",
            "2001:1::3",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "2001:30::1",
            "2620:4f:8000::1",
        ] {
            assert!(classify(ip(addr)).is_some(), "{addr} must be blocked");
        }
    }

    /// The `embedded` section: (IPv6 address, its form, the embedded IPv4 it must decode to).
    fn embedded() -> Vec<[String; 3]> {
        section(REGISTRY, "embedded")
    }

    #[test]
    fn ssrf_01_embedded_ipv4_forms_are_special_whatever_they_embed() {
        for [addr, form, embedded] in embedded() {
            let a = v6(&addr);
            assert_eq!(classify(IpAddr::V6(a)), Some(special(&form)), "{addr}");
            let want: Ipv4Addr = embedded.parse().unwrap_or_else(|e| panic!("{embedded}: {e}"));
            assert_eq!(embedded_ipv4(a), Some(want), "{addr}");
        }
    }

    #[test]
    fn ssrf_04_loopback_any_form_only_for_embedded_loopback() {
        for [addr, _, embedded] in embedded() {
            let want = embedded.starts_with("127.");
            assert_eq!(is_loopback_any_form(ip(&addr)), want, "{addr}");
        }
        let plain: &[(&str, bool)] = &[
            ("127.0.0.1", true),
            ("127.0.0.0", true),
            ("127.255.255.255", true),
            ("126.255.255.255", false),
            ("128.0.0.0", false),
            ("::1", true),
            ("0.0.0.0", false),
            ("::", false),
            ("::2", false),
            ("10.0.0.1", false),
            ("8.8.8.8", false),
            ("fe80::1", false),
            ("2001:db8::7f00:1", false),
            ("::ffff:0:7f00:1", false), // IPv4-translated: reserved, never loopback
            ("::ffff:126.255.255.255", false),
            ("::ffff:128.0.0.0", false),
        ];
        for &(addr, want) in plain {
            assert_eq!(is_loopback_any_form(ip(addr)), want, "{addr}");
        }
    }

    #[test]
    fn ssrf_01_embedded_ipv4_is_none_for_other_addresses() {
        for addr in [
            "::",
            "::1",
            "2001:db8::1",
            "2606:2800:220:1::248",
            "fe80::1",
            "::1:0:0:0",
            "64:ff9b:2::1",
            "2003::1",
            "2001:1::1",
        ] {
            assert_eq!(embedded_ipv4(v6(addr)), None, "{addr}");
        }
    }

    #[test]
    fn ssrf_04_special_use_is_loopback_only_for_loopback() {
        for kind in SpecialUse::ALL {
            assert_eq!(kind.is_loopback(), kind == Loopback, "{kind}");
        }
        assert_eq!(
            classify(ip("::ffff:127.0.0.1")).map(SpecialUse::is_loopback),
            Some(false)
        );
    }

    #[test]
    fn ssrf_01_names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for kind in SpecialUse::ALL {
            let name = kind.as_str();
            assert!(seen.insert(name), "duplicate name {name}");
            assert!(
                !name.is_empty() && !name.starts_with('_') && !name.ends_with('_'),
                "{name}"
            );
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            assert_eq!(kind.to_string(), name);
        }
        assert_eq!(Ipv4Mapped.as_str(), "ipv4_mapped");
        assert_eq!(SharedCgnat.as_str(), "shared_cgnat");
    }

    /// Every kind is produced by some table row, so no variant is dead.
    #[test]
    fn ssrf_01_every_kind_is_used() {
        for kind in SpecialUse::ALL {
            let used = V4_TABLE.iter().any(|r| r.kind == kind) || V6_TABLE.iter().any(|r| r.kind == kind);
            assert!(used, "{kind} is never produced");
        }
    }

    /// Independently written list of every table row: CIDR, kind, first and last address, and what
    /// `classify` must say at each end (differs from the kind only where a more specific row sits there).
    type Row = (String, SpecialUse, String, SpecialUse, String, SpecialUse);

    /// The literal rows of section `name` (`v4_rows`, `v6_rows`).
    fn literal_rows(name: &str) -> Vec<Row> {
        section(REGISTRY, name)
            .into_iter()
            .map(|[cidr, kind, first, first_kind, last, last_kind]| {
                (
                    cidr,
                    special(&kind),
                    first,
                    special(&first_kind),
                    last,
                    special(&last_kind),
                )
            })
            .collect()
    }

    /// Each table row with its literal row, once there is one literal row per table row.
    fn with_literals(table: &[Block], name: &str) -> Vec<(Block, Row)> {
        let rows = literal_rows(name);
        assert_eq!(rows.len(), table.len());
        table.iter().copied().zip(rows).collect()
    }

    /// The IPv4 address in the low 32 bits of a row's `net`.
    fn v4_of(bits: u128) -> Ipv4Addr {
        Ipv4Addr::from(bits as u32)
    }

    #[test]
    fn ssrf_01_literal_rows_are_well_formed() {
        // Guards the literal lists themselves: one row per table row, each CIDR's network is its first
        // address, and first <= last.
        let (v4_rows, v6_rows) = (literal_rows("v4_rows"), literal_rows("v6_rows"));
        assert_eq!(v4_rows.len(), V4_TABLE.len());
        assert_eq!(v6_rows.len(), V6_TABLE.len());
        for (cidr, _, first, _, last, _) in v4_rows.iter().chain(&v6_rows) {
            let (net, _) = cidr.split_once('/').unwrap_or_else(|| panic!("{cidr}"));
            assert_eq!(ip(net), ip(first), "{cidr}");
            assert!(ip(first) <= ip(last), "{cidr}");
        }
    }

    /// Walks the IPv4 table: each row's computed first/last addresses agree with the independent literal list,
    /// and `classify` answers the listed kind at both ends.
    #[test]
    fn ssrf_01_ipv4_table_walk_matches_literals() {
        for (row, (cidr, kind, first, first_kind, last, last_kind)) in with_literals(V4_TABLE, "v4_rows") {
            let netmask = mask(V4_BITS, row.prefix);
            let row_first = v4_of(row.net);
            let row_last = v4_of(row.net | !netmask);
            assert_eq!(format!("{row_first}/{}", row.prefix), cidr);
            assert_eq!(row.kind, kind, "{cidr}");
            assert_eq!(row_first.to_string(), first, "{cidr}");
            assert_eq!(row_last.to_string(), last, "{cidr}");
            assert_eq!(classify(IpAddr::V4(row_first)), Some(first_kind), "{cidr} first");
            assert_eq!(classify(IpAddr::V4(row_last)), Some(last_kind), "{cidr} last");
        }
    }

    #[test]
    fn ssrf_01_ipv6_table_walk_matches_literals() {
        for (row, (cidr, kind, first, first_kind, last, last_kind)) in with_literals(V6_TABLE, "v6_rows") {
            let (net, prefix) = cidr.split_once('/').unwrap_or_else(|| panic!("{cidr}"));
            assert_eq!(v6(net).to_bits(), row.net, "{cidr}");
            assert_eq!(prefix.parse::<u8>().ok(), Some(row.prefix), "{cidr}");
            assert_eq!(row.kind, kind, "{cidr}");
            let netmask = mask(V6_BITS, row.prefix);
            assert_eq!(Ipv6Addr::from(row.net), v6(&first), "{cidr}");
            assert_eq!(Ipv6Addr::from(row.net | !netmask), v6(&last), "{cidr}");
            assert_eq!(classify(IpAddr::V6(v6(&first))), Some(first_kind), "{cidr} first");
            assert_eq!(classify(IpAddr::V6(v6(&last))), Some(last_kind), "{cidr} last");
        }
    }

    /// First match wins, so a row must never be entirely covered by an earlier row (it would be dead), and a
    /// row must never carry host bits (it would never match).
    #[test]
    fn ssrf_01_tables_have_no_dead_rows() {
        for (table, width, family) in [(V4_TABLE, V4_BITS, "IPv4"), (V6_TABLE, V6_BITS, "IPv6")] {
            for (i, row) in table.iter().enumerate() {
                assert_eq!(row.net & !mask(width, row.prefix), 0, "row {i}");
                for earlier in &table[..i] {
                    let covered =
                        earlier.prefix <= row.prefix && row.net & mask(width, earlier.prefix) == earlier.net;
                    assert!(!covered, "{family} row {i} is shadowed by {:?}", earlier);
                }
            }
        }
    }

    /// Cross-check against the standard library's own predicates over a sample of the whole IPv4 space
    /// (the first and last address of every /24): whatever std calls non-public must be special here too,
    /// and nothing in unicast space outside the tables' blocks may be special.
    #[test]
    fn ssrf_01_ipv4_agrees_with_std_predicates() {
        for net in 0u32..(1 << 24) {
            for host in [0u32, 255] {
                let a = Ipv4Addr::from((net << 8) | host);
                let std_special = a.is_private()
                    || a.is_loopback()
                    || a.is_link_local()
                    || a.is_multicast()
                    || a.is_broadcast()
                    || a.is_documentation()
                    || a.is_unspecified()
                    || a.octets()[0] == 0
                    || a.octets()[0] >= 240;
                if std_special {
                    assert!(classify_v4(a).is_some(), "{a}");
                }
            }
        }
    }

    #[test]
    fn ssrf_01_ipv6_agrees_with_std_predicates() {
        // Sample every /16 at both ends.
        for top in 0u32..=0xffff {
            for tail in [0u128, (1u128 << 112) - 1] {
                let a = Ipv6Addr::from((u128::from(top) << 112) | tail);
                let std_special = a.is_loopback()
                    || a.is_unspecified()
                    || a.is_multicast()
                    || a.is_unique_local()
                    || a.is_unicast_link_local()
                    || a.to_ipv4_mapped().is_some()
                    || top >> 13 != 0b001;
                if std_special {
                    assert!(classify_v6(a).is_some(), "{a}");
                }
            }
        }
    }

    #[test]
    fn url_ip_literal_parse_numeric_host_recognises_every_spelling() {
        let name = "url_ip_literal_parse_numeric_host_recognises_every_spelling";
        for [host, want] in section(NUMERIC_HOSTS, name) {
            let want = (want != "none").then(|| ip(&want));
            assert_eq!(parse_numeric_host(&host), want, "{host:?}");
            if want.is_some() {
                assert!(looks_numeric(&host), "{host:?} parses, so it must look numeric");
            }
        }
    }

    #[test]
    fn url_ip_literal_looks_numeric_follows_ends_in_a_number() {
        let cases: &[(&str, bool)] = &[
            ("127.0.0.1", true),
            ("127.0.0.1.", true),
            ("256.0.0.1", true),
            ("1.2.3.999", true),
            ("1.2.3.4.5", true),
            ("example.1", true),
            ("example.0x1f", true),
            ("example.0X1F", true),
            ("example.0x", true),
            ("4294967296", true),
            ("99999999999999999999999999", true),
            ("0xfffffffffffffffffffffffffffff", true),
            ("08.0.0.1", true),
            ("1..2", true),
            ("[::1]", true),
            ("[127.0.0.1]", true),
            ("::1", true),
            ("[", true),
            ("example.com", false),
            ("0x.example.com", false),
            ("1.2.3.example", false),
            ("123abc", false),
            ("localhost", false),
            ("", false),
            (".", false),
            ("a..", false),
            ("1.2.3.4..", false),
            ("0xg", false),
            ("1.2.3.4a", false),
            ("example.0x1g", false),
            ("x1", false),
            ("1a.example", false),
            ("\u{ff11}\u{ff12}\u{ff17}", false),
        ];
        for &(host, want) in cases {
            assert_eq!(looks_numeric(host), want, "{host:?}");
        }
    }

    /// Every numeric spelling of the SSRF-01 loopback address is recognised and classifies as loopback.
    #[test]
    fn ssrf_01_numeric_spellings_of_loopback_classify_as_loopback() {
        for host in [
            "127.0.0.1",
            "0177.0.0.1",
            "0x7f.1",
            "2130706433",
            "127.1",
            "127.0.0.1.",
            "[::1]",
        ] {
            let addr = parse_numeric_host(host);
            assert!(addr.is_some_and(is_loopback_any_form), "{host}");
            assert_eq!(addr.and_then(classify), Some(Loopback), "{host}");
        }
        let mapped = parse_numeric_host("[::ffff:127.0.0.1]");
        assert_eq!(mapped.and_then(classify), Some(Ipv4Mapped));
        assert!(mapped.is_some_and(is_loopback_any_form));
    }
}
