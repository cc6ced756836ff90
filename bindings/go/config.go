package cimd

import (
	"encoding/json"
	"fmt"
)

// Config is the engine's configuration: the JSON object of docs/contract.md §8, with the same keys as every other
// cimd front end. ConfigSchema returns the engine's own description of each key (type, default, range, meaning);
// a test fails when a key of that description has no field here. A nil pointer or nil slice leaves the engine's default (safe for production); a set field is
// sent as is. The engine, not this package, checks the values: an out-of-range number or an unknown method is
// a *ConfigError from New.
//
// Empty and nil slices differ on purpose: nil keeps the default, an empty non-nil slice sends [] (which the
// engine refuses for lists that must not be empty, rather than quietly keeping the default).
type Config struct {
	// Development and test only: let document hosts resolve to loopback. Default false.
	AllowLoopback *bool `json:"allow_loopback,omitempty"`
	// Host-scoped exceptions: this exact host may resolve into these private ranges.
	PrivateNetworkAllowlist []PrivateNetworkGrant `json:"private_network_allowlist,omitzero"`
	// PEM file with extra trust anchors (private PKI, tests), added to the platform roots.
	ExtraCAFile *string `json:"extra_ca_file,omitempty"`
	// If not empty, only these hosts may serve documents (exact, or "*.example.com").
	AllowedHosts []string `json:"allowed_hosts,omitzero"`
	// These hosts may never serve documents (checked before AllowedHosts).
	DeniedHosts []string `json:"denied_hosts,omitzero"`
	// Accept client_id URLs with a query component. Default false.
	AllowQuery *bool `json:"allow_query,omitempty"`
	// Accept client_id URLs whose path is "/". Default false.
	AllowRootPath *bool `json:"allow_root_path,omitempty"`
	// Read cap for one document, in bytes. Default 5120.
	MaxDocumentBytes *uint64 `json:"max_document_bytes,omitempty"`
	// Connect deadline (DNS, TCP and TLS), in milliseconds. Default 2000.
	ConnectTimeoutMS *uint64 `json:"connect_timeout_ms,omitempty"`
	// Total deadline of one fetch, in milliseconds. Default 5000.
	FetchTimeoutMS *uint64 `json:"fetch_timeout_ms,omitempty"`
	// Lower bound of a cached document's lifetime, in seconds. Default 60.
	MinCacheTTLS *uint64 `json:"min_cache_ttl_s,omitempty"`
	// Upper bound of a cached document's lifetime, in seconds. Default 86400.
	MaxCacheTTLS *uint64 `json:"max_cache_ttl_s,omitempty"`
	// After expiry, serve the old document this long while one background refresh runs, in seconds. Default 60.
	StaleWhileRevalidateS *uint64 `json:"stale_while_revalidate_s,omitempty"`
	// After expiry, serve the old document this long while its host fails transiently, in seconds. Default 3600.
	StaleIfErrorS *uint64 `json:"stale_if_error_s,omitempty"`
	// Most documents in the cache. Default 10000.
	CacheMaxEntries *uint64 `json:"cache_max_entries,omitempty"`
	// Most bytes held by the cache. Default 64 MiB.
	CacheMaxBytes *uint64 `json:"cache_max_bytes,omitempty"`
	// Token endpoint authentication methods this server supports. Default ["none"].
	AuthMethodsSupported []string `json:"auth_methods_supported,omitzero"`
	// Grant types this server supports. Default ["authorization_code", "refresh_token"].
	GrantTypesSupported []string `json:"grant_types_supported,omitzero"`
	// Response types this server supports. Default ["code"].
	ResponseTypesSupported []string `json:"response_types_supported,omitzero"`
	// RFC 8252 §7.3: ignore the port of http loopback redirect URIs. Default true.
	LoopbackAnyPort *bool `json:"loopback_any_port,omitempty"`
	// Most fetches in flight at once. Default 32.
	MaxConcurrentFetches *uint64 `json:"max_concurrent_fetches,omitempty"`
	// Most fetches in flight to one host. Default 4.
	PerHostConcurrency *uint64 `json:"per_host_concurrency,omitempty"`
	// Per-host token bucket. Default 60 per minute, burst 20.
	PerHostRate *RateLimit `json:"per_host_rate,omitempty"`
	// Nesting bound for documents. Default 32.
	MaxJSONDepth *uint64 `json:"max_json_depth,omitempty"`
	// Most elements in any array of a document, e.g. redirect_uris. Default 64.
	MaxArrayItems *uint64 `json:"max_array_items,omitempty"`

	// Extra holds keys this struct does not name (for instance keys added to the engine after this package was
	// written). They are sent as given; a key that a field above also sets is an error from New.
	Extra map[string]any `json:"-"`
}

// PrivateNetworkGrant lets one exact host resolve into the listed private ranges (CIDR notation).
type PrivateNetworkGrant struct {
	Host  string   `json:"host"`
	CIDRs []string `json:"cidrs"`
}

// RateLimit is a token bucket: PerMinute tokens refill each minute, at most Burst saved up.
type RateLimit struct {
	PerMinute uint64 `json:"per_minute"`
	Burst     uint64 `json:"burst"`
}

// Ptr returns a pointer to v, for the optional fields of Config:
//
//	cimd.Config{AllowLoopback: cimd.Ptr(true), FetchTimeoutMS: cimd.Ptr[uint64](2000)}
func Ptr[T any](v T) *T { return &v }

// MarshalJSON gives the configuration object the engine reads: the set fields, then the Extra keys.
func (c Config) MarshalJSON() ([]byte, error) {
	type fields Config // the same fields without this method, so that encoding/json does not recurse
	named, err := json.Marshal(fields(c))
	if err != nil {
		return nil, err
	}
	if len(c.Extra) == 0 {
		return named, nil
	}
	var merged map[string]json.RawMessage
	if err := json.Unmarshal(named, &merged); err != nil {
		return nil, err
	}
	for key, value := range c.Extra {
		if _, taken := merged[key]; taken {
			return nil, fmt.Errorf("cimd: configuration key %q is set both by a field and in Extra", key)
		}
		raw, err := json.Marshal(value)
		if err != nil {
			return nil, fmt.Errorf("cimd: configuration key %q in Extra: %w", key, err)
		}
		merged[key] = raw
	}
	return json.Marshal(merged)
}

// cacheBound is how many decoded clients the binding keeps: the engine's own entry bound, so that the Go side
// never holds more than the engine could still hand back unchanged.
func (c Config) cacheBound() int {
	const engineDefault = 10000
	if c.CacheMaxEntries != nil && *c.CacheMaxEntries > 0 && *c.CacheMaxEntries < 1<<31 {
		return int(*c.CacheMaxEntries)
	}
	return engineDefault
}

// ConfigKey is the engine's description of one configuration key (docs/contract.md §8).
type ConfigKey struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Type        string   `json:"type"` // boolean, integer, string, string_list, object or object_list
	Default     any      `json:"default"`
	Min         *uint64  `json:"min,omitempty"`
	Max         *uint64  `json:"max,omitempty"`
	Unit        string   `json:"unit,omitempty"`
	Values      []string `json:"values,omitempty"`
	Description string   `json:"description"`
	Fields      []struct {
		Name        string  `json:"name"`
		Type        string  `json:"type"`
		Min         *uint64 `json:"min,omitempty"`
		Max         *uint64 `json:"max,omitempty"`
		Description string  `json:"description"`
	} `json:"fields,omitempty"`
}

// ConfigSchema is the engine's description of every configuration key, the same as `cimd config-schema`.
func ConfigSchema() ([]ConfigKey, error) {
	raw, status := abiSchemaJSON()
	if status != statusOK {
		return nil, statusError(status)
	}
	var schema struct {
		Keys []ConfigKey `json:"keys"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		return nil, fmt.Errorf("cimd: decoding the engine's configuration schema: %w (a bug in the binding)", err)
	}
	return schema.Keys, nil
}
