package cimd

import (
	"encoding/json"
	"fmt"
	"time"
)

// Source says where an answer came from.
type Source string

const (
	// SourceNetwork: fetched for this request (or confirmed by the document host with a 304).
	SourceNetwork Source = "network"
	// SourceCache: served from the cache while fresh.
	SourceCache Source = "cache"
	// SourceStale: served from the cache after expiry, while it is revalidated in the background or while its
	// host fails (stale-if-error).
	SourceStale Source = "stale"
)

// DisplayHost is the client_id's host as consent screens should show it.
type DisplayHost struct {
	ASCII   string `json:"ascii"`
	Unicode string `json:"unicode"`
}

// Client is a validated client registration: the fields of docs/contract.md §6 that the document has (absent ones
// are zero), plus facts about this answer.
//
// A *Client is shared: every Resolve that gets the same document version with the same Source and ExpiresAt
// returns the same pointer, and its slices are shared too. Treat it as read-only.
type Client struct {
	ClientID      string   `json:"client_id"`
	ClientName    string   `json:"client_name"`
	ClientURI     string   `json:"client_uri"`
	LogoURI       string   `json:"logo_uri"`
	TOSURI        string   `json:"tos_uri"`
	PolicyURI     string   `json:"policy_uri"`
	RedirectURIs  []string `json:"redirect_uris"`
	GrantTypes    []string `json:"grant_types"`
	ResponseTypes []string `json:"response_types"`
	// TokenEndpointAuthMethod is the method negotiated against Config.AuthMethodsSupported, not necessarily
	// the document's own value.
	TokenEndpointAuthMethod string          `json:"token_endpoint_auth_method"`
	JWKS                    json.RawMessage `json:"jwks"`
	JWKSURI                 string          `json:"jwks_uri"`
	Scope                   string          `json:"scope"`
	ApplicationType         string          `json:"application_type"`
	Contacts                []string        `json:"contacts"`
	SoftwareID              string          `json:"software_id"`
	SoftwareVersion         string          `json:"software_version"`
	PostLogoutRedirectURIs  []string        `json:"post_logout_redirect_uris"`
	DisplayHost             DisplayHost     `json:"display_host"`

	// Warnings are snake_case codes such as "localhost_redirects_only" or "display_uri_dropped".
	Warnings []string
	// Changed lists the fields that differ from the previous version of this client's document after a
	// refresh (redirect_uris, the auth method, jwks/jwks_uri, scope, grant_types): revoke grants or ask for
	// consent again.
	Changed []string
	// FetchedAt is when this version of the document was fetched (second precision).
	FetchedAt time.Time
	// Generation identifies the document version: equal for two answers exactly when they carry the same
	// document.
	Generation uint64
	// Source says where this answer came from.
	Source Source
	// ExpiresAt is when the cached document stops being fresh.
	ExpiresAt time.Time

	sourceNumber uint32
	expiresMS    int64
}

// versionJSON is the object cimd_result_json lends: one per document version, built once by the engine.
type versionJSON struct {
	Client     *Client  `json:"client"`
	Warnings   []string `json:"warnings"`
	Changed    []string `json:"changed"`
	FetchedAt  string   `json:"fetched_at"`
	Generation uint64   `json:"generation"`
}

// decodeClient builds a Client from the version JSON of a result.
func decodeClient(raw []byte, source uint32, expiresMS int64) (*Client, error) {
	c := new(Client)
	v := versionJSON{Client: c}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("cimd: decoding the result JSON: %w (a bug in the binding)", err)
	}
	fetched, err := time.Parse(time.RFC3339, v.FetchedAt)
	if err != nil {
		return nil, fmt.Errorf("cimd: decoding fetched_at: %w (a bug in the binding)", err)
	}
	c.Warnings, c.Changed, c.FetchedAt, c.Generation = v.Warnings, v.Changed, fetched, v.Generation
	c.setAnswer(source, expiresMS)
	return c, nil
}

// setAnswer records the per-answer facts.
func (c *Client) setAnswer(source uint32, expiresMS int64) {
	c.Source = sourceOf(source)
	c.ExpiresAt = time.UnixMilli(expiresMS)
	c.sourceNumber, c.expiresMS = source, expiresMS
}

// sameAnswer reports whether c already carries these per-answer facts, so that it can be handed out again.
func (c *Client) sameAnswer(source uint32, expiresMS int64) bool {
	return c.expiresMS == expiresMS && c.sourceNumber == source
}

// withAnswer returns c itself if it already carries these facts, else a shallow copy that does (the document
// fields are immutable and shared).
func (c *Client) withAnswer(source uint32, expiresMS int64) *Client {
	if c.sameAnswer(source, expiresMS) {
		return c
	}
	copied := *c
	copied.setAnswer(source, expiresMS)
	return &copied
}

// sources holds the ABI's names of the source numbers it had at startup, so that naming a source costs no call
// into C.
var sources = func() (names [8]Source) {
	for i := range names {
		names[i] = Source(sourceName(uint32(i)))
	}
	return names
}()

func sourceOf(number uint32) Source {
	if int(number) < len(sources) {
		return sources[number]
	}
	return Source(sourceName(number))
}
