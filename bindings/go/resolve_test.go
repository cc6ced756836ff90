package cimd_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/cimd/cimd/bindings/go/internal/testorigin"
)

func TestResolveDecodesEveryResultField(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	jwks := map[string]any{"keys": []any{map[string]any{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}}
	o.ServeDocument("/full.json", map[string]any{
		"client_name":                "Full Client",
		"client_uri":                 "https://app.example/",
		"logo_uri":                   "https://app.example/logo.png",
		"tos_uri":                    "https://app.example/tos",
		"policy_uri":                 "https://app.example/privacy",
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "none",
		"jwks":                       jwks,
		"scope":                      "openid profile",
		"application_type":           "native",
		"contacts":                   []string{"ops@app.example"},
		"software_id":                "4NRB1-0XZABZI9E6-5SM3R",
		"software_version":           "2.1",
		"post_logout_redirect_uris":  []string{"https://app.example/bye"},
	})
	e := newEngine(t, testorigin.Config(ca))
	id := o.ClientID("/full.json")

	before := time.Now().Add(-2 * time.Second)
	c, err := e.Resolve(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s = %s, want %s", name, gotJSON, wantJSON)
		}
	}
	check("ClientID", c.ClientID, id)
	check("ClientName", c.ClientName, "Full Client")
	check("ClientURI", c.ClientURI, "https://app.example/")
	check("LogoURI", c.LogoURI, "https://app.example/logo.png")
	check("TOSURI", c.TOSURI, "https://app.example/tos")
	check("PolicyURI", c.PolicyURI, "https://app.example/privacy")
	check("RedirectURIs", c.RedirectURIs, []string{"https://app.example/callback", "http://localhost/callback"})
	check("GrantTypes", c.GrantTypes, []string{"authorization_code", "refresh_token"})
	check("ResponseTypes", c.ResponseTypes, []string{"code"})
	check("TokenEndpointAuthMethod", c.TokenEndpointAuthMethod, "none")
	check("JWKS", c.JWKS, jwks)
	check("JWKSURI", c.JWKSURI, "")
	check("Scope", c.Scope, "openid profile")
	check("ApplicationType", c.ApplicationType, "native")
	check("Contacts", c.Contacts, []string{"ops@app.example"})
	check("SoftwareID", c.SoftwareID, "4NRB1-0XZABZI9E6-5SM3R")
	check("SoftwareVersion", c.SoftwareVersion, "2.1")
	check("PostLogoutRedirectURIs", c.PostLogoutRedirectURIs, []string{"https://app.example/bye"})
	check("DisplayHost", c.DisplayHost, cimd.DisplayHost{ASCII: "localhost", Unicode: "localhost"})
	check("Source", c.Source, cimd.SourceNetwork)
	check("Changed", len(c.Changed), 0)
	if c.Generation == 0 {
		t.Error("Generation is 0")
	}
	if c.FetchedAt.Before(before) || c.FetchedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("FetchedAt = %v, want about now", c.FetchedAt)
	}
	// max-age=3600 from the origin.
	if d := time.Until(c.ExpiresAt); d < 3500*time.Second || d > 3601*time.Second {
		t.Errorf("ExpiresAt is %v from now, want about an hour", d)
	}
}

func TestResolveReportsWarnings(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	o.ServeDocument("/warn.json", map[string]any{
		"redirect_uris": []string{"http://localhost/callback"},
		"logo_uri":      "javascript:alert(1)",
	})
	e := newEngine(t, testorigin.Config(ca))
	c, err := e.Resolve(context.Background(), o.ClientID("/warn.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"localhost_redirects_only", "display_uri_dropped"} {
		if !slices.Contains(c.Warnings, w) {
			t.Errorf("Warnings = %v, want %q among them", c.Warnings, w)
		}
	}
	if c.LogoURI != "" {
		t.Errorf("LogoURI = %q, want the non-https URI dropped", c.LogoURI)
	}
}

func TestRedirectURICheck(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	o.ServeDocument("/r.json", nil)
	e := newEngine(t, testorigin.Config(ca))
	id := o.ClientID("/r.json")
	ctx := context.Background()

	for _, ok := range []string{
		"https://app.example/callback",
		"http://localhost/callback",
		"http://localhost:51234/callback", // RFC 8252 §7.3: any port on an http loopback redirect
	} {
		if _, err := e.Resolve(ctx, id, cimd.WithRedirectURI(ok)); err != nil {
			t.Errorf("redirect_uri %q: %v", ok, err)
		}
	}
	for _, bad := range []string{
		"https://app.example/callback/",
		"https://app.example:8443/callback", // https redirects are never relaxed
		"https://evil.example/callback",
		"http://127.0.0.1/callback", // loopback hosts must be equal strings
		"",
	} {
		_, err := e.Resolve(ctx, id, cimd.WithRedirectURI(bad))
		if !errors.Is(err, cimd.ErrRedirectURIMismatch) {
			t.Errorf("redirect_uri %q: err = %v, want redirect_uri_mismatch", bad, err)
			continue
		}
		var ce *cimd.Error
		if !errors.As(err, &ce) || ce.OAuthError != "invalid_request" || ce.Description == "" {
			t.Errorf("redirect_uri %q: %#v, want OAuthError invalid_request and a description", bad, ce)
		}
	}
	// The mismatch is a verdict on the request, not on the client: the document was fetched once and stays cached.
	if n := o.Hits("/r.json"); n != 1 {
		t.Errorf("origin saw %d requests, want 1", n)
	}
}

func TestCachingReusesDecodedClients(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	o.ServeDocument("/c.json", nil)
	e := newEngine(t, testorigin.Config(ca))
	id := o.ClientID("/c.json")
	ctx := context.Background()

	first, err := e.Resolve(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.Resolve(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	third, err := e.Resolve(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if first.Source != cimd.SourceNetwork || second.Source != cimd.SourceCache {
		t.Errorf("sources %s, %s; want network, cache", first.Source, second.Source)
	}
	if second != third {
		t.Error("two cache hits of one generation returned different *Client values; want the decoded one reused")
	}
	if first.Generation != second.Generation || &first.RedirectURIs[0] != &second.RedirectURIs[0] {
		t.Error("the cache hit did not share the decoded document of the first answer")
	}
	if n := o.Hits("/c.json"); n != 1 {
		t.Errorf("origin saw %d requests, want 1", n)
	}

	probed, err := e.Probe(id)
	if err != nil || probed.Generation != first.Generation || probed.Source != cimd.SourceCache {
		t.Errorf("Probe = %+v, %v", probed, err)
	}
	stats, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Fetches != 1 || stats.Hits < 2 || stats.Entries != 1 {
		t.Errorf("Stats = %+v, want 1 fetch, at least 2 hits, 1 entry", stats)
	}
	entries, err := e.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].ClientID != id || entries[0].State != "fresh" ||
		entries[0].Generation != first.Generation || entries[0].ClientName != "Test Client" {
		t.Errorf("Entries = %+v", entries)
	}

	if err := e.Invalidate(id); err != nil {
		t.Fatalf("Invalidate: %v", err)
	}
	if err := e.Invalidate(id); !errors.Is(err, cimd.ErrNotCached) {
		t.Errorf("second Invalidate = %v, want ErrNotCached", err)
	}
	if _, err := e.Probe(id); !errors.Is(err, cimd.ErrNotCached) {
		t.Errorf("Probe after Invalidate = %v, want ErrNotCached", err)
	}
	again, err := e.Resolve(ctx, id)
	if err != nil || again.Source != cimd.SourceNetwork {
		t.Fatalf("Resolve after Invalidate = %+v, %v; want a network answer", again, err)
	}
	if n := o.Hits("/c.json"); n != 2 {
		t.Errorf("origin saw %d requests, want 2", n)
	}
}

func TestRefreshReportsChangedFields(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	o.ServeDocument("/c.json", map[string]any{"scope": "read"})
	e := newEngine(t, testorigin.Config(ca))
	id := o.ClientID("/c.json")
	ctx := context.Background()

	before, err := e.Resolve(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	same, err := e.Refresh(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if same.Generation != before.Generation || len(same.Changed) != 0 {
		t.Errorf("refresh of an unchanged document: generation %d -> %d, changed %v", before.Generation, same.Generation, same.Changed)
	}

	o.ServeDocument("/c.json", map[string]any{"scope": "read write", "redirect_uris": []string{"https://app.example/new"}})
	after, err := e.Refresh(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if after.Generation == before.Generation {
		t.Error("a changed document kept its generation")
	}
	for _, field := range []string{"redirect_uris", "scope"} {
		if !slices.Contains(after.Changed, field) {
			t.Errorf("Changed = %v, want %q among them", after.Changed, field)
		}
	}
	if after.Scope != "read write" || !slices.Equal(after.RedirectURIs, []string{"https://app.example/new"}) {
		t.Errorf("refreshed client = %+v", after)
	}
	// The decoded client of the old generation is not served again.
	hit, err := e.Resolve(ctx, id)
	if err != nil || hit.Generation != after.Generation || hit.Scope != "read write" {
		t.Errorf("Resolve after Refresh = %+v, %v", hit, err)
	}
	// Refreshing a client_id that is not cached fetches it (nothing to revalidate).
	if _, err := e.Refresh(ctx, "https://localhost:1/never.json"); err == nil {
		t.Error("refreshing an unreachable client_id succeeded")
	}
}

func TestContext(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	o.ServeDocument("/c.json", nil)
	e := newEngine(t, testorigin.Config(ca))
	id := o.ClientID("/c.json")

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Resolve(canceled, id); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve with a canceled context = %v, want context.Canceled", err)
	}
	if n := o.Hits("/c.json"); n != 0 {
		t.Errorf("a canceled call reached the origin (%d requests)", n)
	}
	// A cache hit answers whatever the deadline.
	if _, err := e.Resolve(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	time.Sleep(2 * time.Millisecond)
	if _, err := e.Resolve(short, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Resolve with an expired context = %v, want context.DeadlineExceeded", err)
	}
}

func TestInvalidUTF8IsRefusedAtTheBoundary(t *testing.T) {
	e := newEngine(t, cimd.Config{})
	if _, err := e.Resolve(context.Background(), "https://c.example/\xff.json"); !errors.Is(err, cimd.ErrInvalidUTF8) {
		t.Errorf("err = %v, want ErrInvalidUTF8", err)
	}
	if _, err := e.Resolve(context.Background(), "https://c.example/a.json", cimd.WithRedirectURI("https://c.example/\xfe")); !errors.Is(err, cimd.ErrInvalidUTF8) {
		t.Errorf("err = %v, want ErrInvalidUTF8", err)
	}
	// An empty client_id is the engine's to judge, not an ABI misuse.
	if _, err := e.Resolve(context.Background(), ""); !errors.Is(err, cimd.ErrInvalidClientIDURL) {
		t.Errorf("empty client_id: err = %v, want invalid_client_id_url", err)
	}
}
