package cimd_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/cimd/cimd/bindings/go/internal/testorigin"
)

// The documents real MCP clients publish (tests/fixtures/clients at the repository's root: MCPJam, VS Code,
// Claude Code, claude.ai, ChatGPT) resolve through the binding at their real client_id URLs, served from a
// loopback HTTPS origin on port 443 inside scripts/netns (tests/fixtures/hosts maps their hosts there).
func TestPublishedClientDocumentsResolve(t *testing.T) {
	dir := filepath.Join("..", "..", "tests", "fixtures", "clients")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected struct {
		Documents []struct {
			File                  string   `json:"file"`
			RedirectURI           string   `json:"redirect_uri"`
			HostNone              string   `json:"host_none"`
			HostNonePrivateKeyJWT string   `json:"host_none_private_key_jwt"`
			GrantTypes            []string `json:"grant_types"`
			Warnings              []string `json:"warnings"`
		} `json:"documents"`
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	type doc struct {
		clientID string
		body     []byte
	}
	docs := make([]doc, len(expected.Documents))
	var hosts []string
	for i, e := range expected.Documents {
		body, err := os.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			ClientID string `json:"client_id"`
		}
		if err := json.Unmarshal(body, &d); err != nil {
			t.Fatal(err)
		}
		docs[i] = doc{d.ClientID, body}
		u, _ := url.Parse(d.ClientID)
		if !slices.Contains(hosts, u.Hostname()) {
			hosts = append(hosts, u.Hostname())
		}
	}
	ca := testorigin.NewCA(t)
	origin := testorigin.NewOn443(t, ca, hosts...)
	for _, d := range docs {
		u, _ := url.Parse(d.clientID)
		origin.ServeJSON(u.Path, d.body)
	}
	origin.ServeJSON("/oauth/jwks.json", []byte(`{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
		"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	for _, methods := range [][]string{{"none"}, {"none", "private_key_jwt"}} {
		cfg := testorigin.Config(ca)
		cfg.AuthMethodsSupported = methods
		e := newEngine(t, cfg)
		for i, want := range expected.Documents {
			id := docs[i].clientID
			c, err := e.Resolve(context.Background(), id, cimd.WithRedirectURI(want.RedirectURI))
			if err != nil {
				t.Fatalf("%s on %v: %v", id, methods, err)
			}
			wantMethod := want.HostNone
			if len(methods) == 2 {
				wantMethod = want.HostNonePrivateKeyJWT
			}
			if c.TokenEndpointAuthMethod != wantMethod || c.ClientID != id {
				t.Errorf("%s on %v: method %q, want %q", id, methods, c.TokenEndpointAuthMethod, wantMethod)
			}
			if !slices.Equal(c.GrantTypes, want.GrantTypes) {
				t.Errorf("%s: grant types %v, want %v", id, c.GrantTypes, want.GrantTypes)
			}
			if !slices.Equal(c.Warnings, want.Warnings) && !(len(c.Warnings) == 0 && len(want.Warnings) == 0) {
				t.Errorf("%s: warnings %v, want %v", id, c.Warnings, want.Warnings)
			}
		}
	}
}
