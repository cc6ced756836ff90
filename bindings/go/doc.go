// Package cimd resolves OAuth Client ID Metadata Documents (URL client_ids) for Go authorization servers.
//
// When a client_id is an https URL, the server fetches the JSON document at that URL, validates it, and uses
// it as the client's registration. Doing that safely takes many rules: the URL's shape, SSRF-safe fetching
// (no private addresses, pinned DNS, no redirects), strict JSON, forbidden members, redirect_uri matching, and
// an HTTP-aware cache. All of them live in the cimd engine, written in Rust and linked statically into your
// binary; this package is a thin layer over its C ABI (include/cimd.h) that adds no rules of its own.
//
//	engine, err := cimd.New(cimd.Config{})
//	if err != nil { ... }
//	defer engine.Close()
//
//	client, err := engine.Resolve(ctx, clientID, cimd.WithRedirectURI(redirectURI))
//	switch {
//	case errors.Is(err, cimd.ErrRedirectURIMismatch):
//		// show an error page; never redirect to redirectURI
//	case err != nil:
//		var e *cimd.Error
//		if errors.As(err, &e) { /* answer e.OAuthError, log e.Description */ }
//	default:
//		// client.RedirectURIs, client.TokenEndpointAuthMethod, client.DisplayHost.Unicode, ...
//	}
//
// Advertise support in your authorization-server metadata with the members DiscoveryMetadata returns.
//
// An Engine is safe for concurrent use by many goroutines. Concurrent resolves of one client_id share one
// fetch, and a cache hit returns the already decoded *Client (one call into C, no decoding, no allocation)
// for as long as the document's generation stays the same.
package cimd
