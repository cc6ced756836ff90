package main

// End-to-end tests of the example server, driven over HTTP the way a browser and a client would. The server and
// the client-document origin both listen on 127.0.0.1 only; run inside scripts/netns (make go-test does).

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/cimd/cimd/bindings/go/internal/testorigin"
	"github.com/ory/fosite"
)

// registered is the ordinary client every test server also serves.
var registered = &fosite.DefaultClient{
	ID:            "registered-app",
	RedirectURIs:  []string{"https://registered.example/callback"},
	GrantTypes:    []string{"authorization_code", "refresh_token"},
	ResponseTypes: []string{"code"},
	Scopes:        []string{"profile"},
	Public:        true,
}

// testServer is the example server behind httptest, with a browser-like client that does not follow redirects.
type testServer struct {
	t      *testing.T
	url    string
	client *http.Client
}

func startServer(t *testing.T, cfg cimd.Config) *testServer {
	t.Helper()
	engine, err := cimd.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.Close() })
	hs := httptest.NewUnstartedServer(nil)
	issuer := "http://" + hs.Listener.Addr().String()
	server, err := NewServer(Options{
		Issuer:        issuer,
		Engine:        engine,
		Registered:    []fosite.Client{registered},
		DefaultScopes: []string{"profile"},
		Subject:       "alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = server.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &testServer{t: t, url: issuer, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request and returns the response with its body read.
func (s *testServer) do(method, path string, form url.Values) (*http.Response, string) {
	s.t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, s.url+path+"?"+form.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, s.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err != nil {
		s.t.Fatal(err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp, string(body)
}

// pkce returns a code verifier and its S256 challenge.
func pkce(t *testing.T) (verifier, challenge string) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	verifier = base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeParams is an authorization request with PKCE.
func authorizeParams(clientID, redirectURI, challenge string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"profile"},
		"state":                 {"state-1234567890"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
}

// authorize runs the consent page and its approval, and returns the code from the redirect.
func (s *testServer) authorize(params url.Values, wantOnPage ...string) string {
	s.t.Helper()
	resp, page := s.do(http.MethodGet, "/authorize", params)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET /authorize: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	for _, want := range wantOnPage {
		if !strings.Contains(page, want) {
			s.t.Errorf("the consent page does not show %q:\n%s", want, page)
		}
	}
	approve := url.Values{"consent": {"approve"}}
	for k, v := range params {
		approve[k] = v
	}
	resp, body := s.do(http.MethodPost, "/authorize", approve)
	if resp.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("POST /authorize: %d, want 303\n%s", resp.StatusCode, body)
	}
	location, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		s.t.Fatal(err)
	}
	if got := location.Scheme + "://" + location.Host + location.Path; got != params.Get("redirect_uri") {
		s.t.Fatalf("redirected to %s, want %s", location, params.Get("redirect_uri"))
	}
	if location.Query().Get("state") != params.Get("state") {
		s.t.Errorf("state %q, want %q", location.Query().Get("state"), params.Get("state"))
	}
	code := location.Query().Get("code")
	if code == "" {
		s.t.Fatalf("no code in %s", location)
	}
	return code
}

// exchange redeems a code at the token endpoint and returns the status and the decoded answer.
func (s *testServer) exchange(clientID, redirectURI, code, verifier string) (int, map[string]any) {
	s.t.Helper()
	resp, body := s.do(http.MethodPost, "/token", url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {clientID},
		"redirect_uri":  {redirectURI},
		"code":          {code},
		"code_verifier": {verifier},
	})
	var answer map[string]any
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		s.t.Fatalf("token endpoint: %d %q: %v", resp.StatusCode, body, err)
	}
	return resp.StatusCode, answer
}

func TestDiscoveryAdvertisesCIMD(t *testing.T) {
	s := startServer(t, cimd.Config{})
	resp, body := s.do(http.MethodGet, "/.well-known/oauth-authorization-server", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var meta map[string]any
	if err := json.Unmarshal([]byte(body), &meta); err != nil {
		t.Fatal(err)
	}
	if meta["client_id_metadata_document_supported"] != true {
		t.Errorf("client_id_metadata_document_supported = %v", meta["client_id_metadata_document_supported"])
	}
	if got, _ := json.Marshal(meta["code_challenge_methods_supported"]); string(got) != `["S256"]` {
		t.Errorf("code_challenge_methods_supported = %s", got)
	}
	if got, _ := json.Marshal(meta["token_endpoint_auth_methods_supported"]); string(got) != `["none"]` {
		t.Errorf("token_endpoint_auth_methods_supported = %s", got)
	}
	for _, key := range []string{"issuer", "authorization_endpoint", "token_endpoint"} {
		if v, _ := meta[key].(string); !strings.HasPrefix(v, s.url) {
			t.Errorf("%s = %v", key, meta[key])
		}
	}
}

func TestURLClientAuthorizationCodeWithPKCE(t *testing.T) {
	ca := testorigin.NewCA(t)
	origin := testorigin.New(t, ca)
	origin.ServeDocument("/client.json", map[string]any{
		"client_name":   "Loopback Tool",
		"redirect_uris": []string{"http://localhost/callback"},
	})
	s := startServer(t, testorigin.Config(ca))
	clientID := origin.ClientID("/client.json")
	// The document registers http://localhost/callback; a native client listens on an ephemeral port, which
	// cimd's loopback rule (RFC 8252 §7.3) accepts and fosite then sees as this request's redirect URI.
	redirectURI := "http://localhost:53123/callback"

	verifier, challenge := pkce(t)
	code := s.authorize(authorizeParams(clientID, redirectURI, challenge), "Loopback Tool", "localhost")
	status, answer := s.exchange(clientID, redirectURI, code, verifier)
	if status != http.StatusOK || answer["access_token"] == nil || !strings.EqualFold(answer["token_type"].(string), "bearer") {
		t.Fatalf("token endpoint: %d %v", status, answer)
	}
	// A code is good once.
	if status, answer := s.exchange(clientID, redirectURI, code, verifier); status == http.StatusOK {
		t.Errorf("a code was redeemed twice: %v", answer)
	}

	// PKCE is enforced: the wrong verifier is refused.
	_, challenge = pkce(t)
	code = s.authorize(authorizeParams(clientID, redirectURI, challenge))
	if status, answer := s.exchange(clientID, redirectURI, code, verifier); status != http.StatusBadRequest || answer["error"] != "invalid_grant" {
		t.Errorf("wrong code_verifier: %d %v, want 400 invalid_grant", status, answer)
	}

	// And required: without a code_challenge, fosite's PKCE handler refuses to issue a code when the user
	// approves, and sends the error back to the (validated) redirect_uri.
	params := authorizeParams(clientID, redirectURI, "")
	params.Del("code_challenge")
	params.Del("code_challenge_method")
	params.Set("consent", "approve")
	resp, _ := s.do(http.MethodPost, "/authorize", params)
	if location := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(location, redirectURI) || !strings.Contains(location, "error=invalid_request") {
		t.Errorf("no code_challenge: %d %q, want a redirect with error=invalid_request", resp.StatusCode, location)
	}

	// The document was fetched once for all of the above.
	if n := origin.Hits("/client.json"); n != 1 {
		t.Errorf("the origin saw %d requests, want 1", n)
	}
}

func TestWrongRedirectURIIsRefusedWithoutRedirecting(t *testing.T) {
	ca := testorigin.NewCA(t)
	origin := testorigin.New(t, ca)
	origin.ServeDocument("/client.json", nil)
	s := startServer(t, testorigin.Config(ca))
	clientID := origin.ClientID("/client.json")
	_, challenge := pkce(t)

	for _, evil := range []string{"https://evil.example/callback", "https://app.example/callback/extra"} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			params := authorizeParams(clientID, evil, challenge)
			if method == http.MethodPost {
				params.Set("consent", "approve")
			}
			resp, body := s.do(method, "/authorize", params)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("%s redirect_uri %s: %d Location %q, want 400 and no redirect", method, evil, resp.StatusCode, resp.Header.Get("Location"))
			}
			if !strings.Contains(body, "invalid_request") || strings.Contains(body, "code=") {
				t.Errorf("%s redirect_uri %s: page %q, want invalid_request", method, evil, body)
			}
		}
	}
}

func TestBlockedAddressClientIDIsRefused(t *testing.T) {
	ca := testorigin.NewCA(t)
	origin := testorigin.New(t, ca)
	origin.ServeDocument("/client.json", nil)
	// Production configuration: no allow_loopback, so a client_id whose host resolves to a loopback address is
	// a blocked address (SSRF protection), even though a document is there.
	cfg := testorigin.Config(ca)
	cfg.AllowLoopback = nil
	s := startServer(t, cfg)
	_, challenge := pkce(t)

	resp, body := s.do(http.MethodGet, "/authorize", authorizeParams(origin.ClientID("/client.json"), "https://app.example/callback", challenge))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("%d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(body, "invalid_client") {
		t.Errorf("page %q, want invalid_client", body)
	}
	if n := origin.Hits("/client.json"); n != 0 {
		t.Errorf("the blocked host was contacted (%d requests)", n)
	}
}

// Draft -03 §6 (AUTH-16): a URL client that shares no token endpoint authentication method with the server is
// refused with unauthorized_client, on an error page, never by a redirect.
func TestNoAuthMethodInCommonIsUnauthorizedClient(t *testing.T) {
	ca := testorigin.NewCA(t)
	origin := testorigin.New(t, ca)
	origin.ServeDocument("/mtls.json", map[string]any{"token_endpoint_auth_method": "tls_client_auth"})
	s := startServer(t, testorigin.Config(ca))
	_, challenge := pkce(t)

	resp, body := s.do(http.MethodGet, "/authorize", authorizeParams(origin.ClientID("/mtls.json"), "https://app.example/callback", challenge))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("%d Location %q, want 400 and no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !strings.Contains(body, "unauthorized_client") || !strings.Contains(body, "AUTH-16") {
		t.Errorf("page %q, want unauthorized_client and the rule", body)
	}
}

func TestRegisteredClientStillWorks(t *testing.T) {
	s := startServer(t, cimd.Config{})
	redirectURI := registered.RedirectURIs[0]
	verifier, challenge := pkce(t)
	code := s.authorize(authorizeParams(registered.ID, redirectURI, challenge), "registered-app")
	status, answer := s.exchange(registered.ID, redirectURI, code, verifier)
	if status != http.StatusOK || answer["access_token"] == nil {
		t.Fatalf("token endpoint: %d %v", status, answer)
	}
	// fosite's own checks still apply to registered clients.
	resp, _ := s.do(http.MethodGet, "/authorize", authorizeParams(registered.ID, "https://evil.example/callback", challenge))
	if resp.StatusCode == http.StatusSeeOther || resp.Header.Get("Location") != "" {
		t.Errorf("registered client, wrong redirect_uri: %d %q, want no redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	// An unknown client_id that is not a URL goes to the engine, which refuses it as a client_id URL.
	resp, body := s.do(http.MethodGet, "/authorize", authorizeParams("no-such-app", redirectURI, challenge))
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "invalid_client") {
		t.Errorf("unknown client: %d %q %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}

func TestUnionOfStrings(t *testing.T) {
	got := unionOfStrings([]string{"none"}, []any{"none", "private_key_jwt"})
	if !slices.Equal(got, []string{"none", "private_key_jwt"}) {
		t.Errorf("union = %v", got)
	}
}
