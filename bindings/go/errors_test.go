package cimd_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/cimd/cimd/bindings/go/internal/testorigin"
)

// TestErrorCodes provokes every error code the engine can produce against a local origin (all but internal,
// which only a bug in cimd produces) and checks that it reaches Go as a typed *Error that errors.Is matches
// with its sentinel, with the OAuth error of docs/contract.md §7 and a description.
func TestErrorCodes(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)

	foreign := testorigin.NewUntrusted(t) // its certificate comes from a CA the engine does not trust
	foreign.ServeDocument("/c.json", nil)

	closedPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(l.Addr().String())
		_ = l.Close()
		return port
	}()

	o.ServeDocument("/ok.json", nil)
	o.Route("/slow.json", testorigin.Reply{Hang: true})
	o.Route("/moved.json", testorigin.Reply{Status: http.StatusFound, Headers: [][2]string{{"Location", "/ok.json"}}})
	o.Route("/gone.json", testorigin.Reply{Status: http.StatusGone,
		Headers: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}, Body: []byte("gone\n")})
	o.Route("/html.json", testorigin.Reply{Headers: [][2]string{{"Content-Type", "text/html"}},
		Body: testorigin.Document(o.ClientID("/html.json"), nil)})
	o.ServeDocument("/large.json", map[string]any{"padding": strings.Repeat("x", 6000)})
	o.ServeJSON("/duplicate.json", []byte(fmt.Sprintf(
		`{"client_id": %q, "redirect_uris": ["https://app.example/callback"], "redirect_uris": ["https://evil.example/"]}`,
		o.ClientID("/duplicate.json"))))
	o.ServeDocument("/no-redirects.json", map[string]any{"redirect_uris": nil})
	o.ServeJSON("/mismatch.json", testorigin.Document(o.ClientID("/other.json"), nil))
	o.ServeDocument("/secret.json", map[string]any{"client_secret": "hunter2"})
	o.ServeDocument("/pkjwt.json", map[string]any{
		"token_endpoint_auth_method": "private_key_jwt",
		"jwks_uri":                   "https://app.example/jwks.json",
	})

	base := testorigin.Config(ca)
	noLoopback := base
	noLoopback.AllowLoopback = nil
	denied := base
	denied.DeniedHosts = []string{"localhost"}

	type errorCase struct {
		name     string
		cfg      cimd.Config
		clientID string
		opts     []cimd.ResolveOption
		timeout  time.Duration
		want     *cimd.Error
	}
	cases := []errorCase{
		{name: "not https", cfg: base, clientID: strings.Replace(o.ClientID("/ok.json"), "https:", "http:", 1), want: cimd.ErrInvalidClientIDURL},
		{name: "IP literal", cfg: base, clientID: strings.Replace(o.ClientID("/ok.json"), "localhost", "127.0.0.1", 1), want: cimd.ErrInvalidClientIDURL},
		{name: "dot segment", cfg: base, clientID: o.ClientID("/a/../ok.json"), want: cimd.ErrInvalidClientIDURL},
		{name: "denied host", cfg: denied, clientID: o.ClientID("/ok.json"), want: cimd.ErrHostNotAllowed},
		{name: "loopback without allow_loopback", cfg: noLoopback, clientID: o.ClientID("/ok.json"), want: cimd.ErrBlockedAddress},
		{name: "connection refused", cfg: base, clientID: "https://localhost:" + closedPort + "/c.json", want: cimd.ErrConnectError},
		{name: "untrusted certificate", cfg: base, clientID: foreign.ClientID("/c.json"), want: cimd.ErrTLSError},
		{name: "deadline", cfg: base, clientID: o.ClientID("/slow.json"), timeout: 300 * time.Millisecond, want: cimd.ErrTimeout},
		{name: "status 404", cfg: base, clientID: o.ClientID("/missing.json"), want: cimd.ErrHTTPStatus},
		{name: "status 410", cfg: base, clientID: o.ClientID("/gone.json"), want: cimd.ErrHTTPStatus},
		{name: "redirect", cfg: base, clientID: o.ClientID("/moved.json"), want: cimd.ErrRedirectNotFollowed},
		{name: "too large", cfg: base, clientID: o.ClientID("/large.json"), want: cimd.ErrTooLarge},
		{name: "text/html", cfg: base, clientID: o.ClientID("/html.json"), want: cimd.ErrInvalidContentType},
		{name: "duplicate member", cfg: base, clientID: o.ClientID("/duplicate.json"), want: cimd.ErrInvalidJSON},
		{name: "no redirect_uris", cfg: base, clientID: o.ClientID("/no-redirects.json"), want: cimd.ErrInvalidMetadata},
		{name: "client_id mismatch", cfg: base, clientID: o.ClientID("/mismatch.json"), want: cimd.ErrClientIDMismatch},
		{name: "client_secret", cfg: base, clientID: o.ClientID("/secret.json"), want: cimd.ErrForbiddenMetadata},
		{name: "private_key_jwt on a none-only server", cfg: base, clientID: o.ClientID("/pkjwt.json"), want: cimd.ErrUnsupportedAuthMethod},
		{name: "redirect_uri", cfg: base, clientID: o.ClientID("/ok.json"), opts: []cimd.ResolveOption{cimd.WithRedirectURI("https://evil.example/cb")}, want: cimd.ErrRedirectURIMismatch},
	}
	if os.Getenv("CIMD_IN_NETNS") == "1" {
		// Only where no packet can leave the machine: a lookup of an unknown name would otherwise go to the
		// system's resolver.
		cases = append(cases, errorCase{name: "unknown host", cfg: base, clientID: "https://cimd-go-test.invalid/c.json", want: cimd.ErrDNSError})
	} else {
		t.Log("dns_error is checked only inside scripts/netns")
	}

	engines := map[string]*cimd.Engine{}
	engineFor := func(cfg cimd.Config) *cimd.Engine {
		key := fmt.Sprintf("%v %v", cfg.AllowLoopback != nil, cfg.DeniedHosts)
		if engines[key] == nil {
			engines[key] = newEngine(t, cfg)
		}
		return engines[key]
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			started := time.Now()
			c, err := engineFor(tc.cfg).Resolve(ctx, tc.clientID, tc.opts...)
			if err == nil {
				t.Fatalf("resolved %+v, want %s", c, tc.want.Code)
			}
			checkEngineError(t, err, tc.want)
			if tc.timeout > 0 && time.Since(started) > tc.timeout+2*time.Second {
				t.Errorf("the call took %v with a %v deadline", time.Since(started), tc.timeout)
			}
		})
	}
}

// checkEngineError checks err against a sentinel and the contract of docs/contract.md §7.
func checkEngineError(t *testing.T, err error, want *cimd.Error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %s", err, want.Code)
	}
	var ce *cimd.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %T, want *cimd.Error", err)
	}
	if ce.Description == "" || !strings.Contains(err.Error(), string(ce.Code)) {
		t.Errorf("err = %q: want the code and a description", err)
	}
	wantOAuth, wantTransient := "invalid_client", false
	switch ce.Code {
	case cimd.CodeRedirectURIMismatch:
		wantOAuth = "invalid_request"
	case cimd.CodeUnsupportedAuthMethod:
		// Draft -03 §6 (AUTH-16): no method in common is unauthorized_client.
		wantOAuth = "unauthorized_client"
	case cimd.CodeRateLimited:
		wantOAuth, wantTransient = "temporarily_unavailable", true
	case cimd.CodeDNSError, cimd.CodeConnectError, cimd.CodeTLSError, cimd.CodeTimeout:
		wantTransient = true
	}
	if ce.OAuthError != wantOAuth || ce.Transient != wantTransient {
		t.Errorf("%s: OAuthError %q, Transient %v; want %q, %v", ce.Code, ce.OAuthError, ce.Transient, wantOAuth, wantTransient)
	}
	for _, other := range []*cimd.Error{cimd.ErrInvalidClientIDURL, cimd.ErrBlockedAddress, cimd.ErrRedirectURIMismatch, cimd.ErrTimeout} {
		if other.Code != ce.Code && errors.Is(err, other) {
			t.Errorf("errors.Is(%s, %s) is true", ce.Code, other.Code)
		}
	}
}

func TestRateLimited(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	o.ServeDocument("/a.json", nil)
	o.ServeDocument("/b.json", nil)
	cfg := testorigin.Config(ca)
	cfg.PerHostRate = &cimd.RateLimit{PerMinute: 1, Burst: 1}
	e := newEngine(t, cfg)
	if _, err := e.Resolve(context.Background(), o.ClientID("/a.json")); err != nil {
		t.Fatal(err)
	}
	_, err := e.Resolve(context.Background(), o.ClientID("/b.json"))
	checkEngineError(t, err, cimd.ErrRateLimited)
	if n := o.Hits("/b.json"); n != 0 {
		t.Errorf("a rate-limited fetch reached the origin (%d requests)", n)
	}
	// Cached answers are not rate limited.
	if _, err := e.Resolve(context.Background(), o.ClientID("/a.json")); err != nil {
		t.Errorf("cache hit under the rate limit: %v", err)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	e := newEngine(t, testorigin.Config(ca))
	id := o.ClientID("/later.json")
	if _, err := e.Resolve(context.Background(), id); !errors.Is(err, cimd.ErrHTTPStatus) {
		t.Fatalf("err = %v, want http_status", err)
	}
	o.ServeDocument("/later.json", nil)
	if _, err := e.Resolve(context.Background(), id); err != nil {
		t.Fatalf("after the document appeared: %v", err)
	}
	stats, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Failures[cimd.CodeHTTPStatus] != 1 {
		t.Errorf("Stats.Failures = %v, want one http_status", stats.Failures)
	}
}

func TestErrorIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &cimd.Error{Code: cimd.CodeTooLarge, Description: "the body exceeds 5120 bytes"})
	if !errors.Is(err, cimd.ErrTooLarge) {
		t.Error("a wrapped *Error does not match its sentinel")
	}
	if errors.Is(err, cimd.ErrInvalidJSON) {
		t.Error("an *Error matches another code's sentinel")
	}
	if !errors.Is(err, &cimd.Error{Code: cimd.CodeTooLarge, Description: "the body exceeds 5120 bytes"}) {
		t.Error("an *Error does not match an equal *Error")
	}
	if errors.Is(err, &cimd.Error{Code: cimd.CodeTooLarge, Description: "something else"}) {
		t.Error("an *Error matches one with another description")
	}
	if errors.Is(err, cimd.ErrConfig) || errors.Is(err, context.DeadlineExceeded) {
		t.Error("an *Error matches an unrelated error")
	}
}
