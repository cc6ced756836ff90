package main

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"html/template"
	"log"
	"net/http"
	"slices"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
)

// Options configure the example server.
type Options struct {
	// Issuer is the server's own URL, e.g. "https://auth.example.com" (no trailing slash).
	Issuer string
	// Engine resolves URL client_ids. The server does not close it.
	Engine *cimd.Engine
	// Registered are the ordinary, pre-registered clients.
	Registered []fosite.Client
	// DefaultScopes may be requested by URL clients whose document has no scope member.
	DefaultScopes []string
	// Subject is the end user every authorization is issued for. A real server authenticates the user first
	// (its login session); this example has one user so that the OAuth flow stays in view.
	Subject string
}

// Server is an OAuth 2.0 authorization server (authorization code with PKCE) on ory/fosite that accepts
// URL client_ids through cimd and keeps serving its registered clients.
type Server struct {
	opts     Options
	provider fosite.OAuth2Provider
}

// NewServer composes fosite with the cimd-aware client store.
func NewServer(opts Options) (*Server, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	config := &fosite.Config{
		GlobalSecret:                   secret,
		AccessTokenLifespan:            time.Hour,
		AuthorizeCodeLifespan:          5 * time.Minute,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.DefaultAudienceMatchingStrategy,
	}
	store := NewStore(opts.Engine, opts.Registered, opts.DefaultScopes)
	provider := compose.Compose(config, store, compose.NewOAuth2HMACStrategy(config),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2RefreshTokenGrantFactory,
	)
	return &Server{opts: opts, provider: provider}, nil
}

// Handler routes the server's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	return mux
}

// metadata serves RFC 8414 authorization-server metadata, with the members cimd asks a server to advertise
// (docs/contract.md §10): clients such as Claude use a URL client_id only when all of them are present.
func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	doc := map[string]any{
		"issuer":                                s.opts.Issuer,
		"authorization_endpoint":                s.opts.Issuer + "/authorize",
		"token_endpoint":                        s.opts.Issuer + "/token",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"none"}, // the registered clients here are public
		"scopes_supported":                      s.opts.DefaultScopes,
	}
	discovery, err := s.opts.Engine.DiscoveryMetadata()
	if err != nil {
		http.Error(w, "server_error", http.StatusInternalServerError)
		return
	}
	for key, value := range discovery {
		if key == "token_endpoint_auth_methods_supported" {
			value = unionOfStrings(doc[key], value)
		}
		doc[key] = value
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	_ = json.NewEncoder(w).Encode(doc)
}

// unionOfStrings merges two JSON string lists, keeping the order of first appearance.
func unionOfStrings(a, b any) []string {
	var out []string
	for _, list := range []any{a, b} {
		switch l := list.(type) {
		case []string:
			for _, v := range l {
				if !slices.Contains(out, v) {
					out = append(out, v)
				}
			}
		case []any:
			for _, v := range l {
				if str, ok := v.(string); ok && !slices.Contains(out, str) {
					out = append(out, str)
				}
			}
		}
	}
	return out
}

// authorize handles the authorization endpoint: GET shows the consent page, POST (the page's form) issues the
// code. fosite validates the request both times; for URL clients that validation goes through cimd.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.authorizeError(w, r, ar, err)
		return
	}
	if r.Method == http.MethodGet || r.PostFormValue("consent") != "approve" {
		s.consentPage(w, ar)
		return
	}
	for _, scope := range ar.GetRequestedScopes() {
		ar.GrantScope(scope)
	}
	session := &fosite.DefaultSession{Subject: s.opts.Subject, Username: s.opts.Subject}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, session)
	if err != nil {
		s.authorizeError(w, r, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// authorizeError answers a refused authorization request. A refusal by cimd (the client_id's document, or the
// redirect_uri not registered in it) is shown on an error page and never redirected: the redirect_uri is not
// trusted. Anything else goes to fosite, which redirects only to a redirect_uri it has validated.
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	var refused *cimd.Error
	if errors.As(err, &refused) {
		status, oauthError := http.StatusBadRequest, refused.OAuthError
		if refused.Transient {
			status, oauthError = http.StatusServiceUnavailable, "temporarily_unavailable"
		}
		log.Printf("authorize: client_id %q refused: %v", r.FormValue("client_id"), refused)
		s.errorPage(w, status, oauthError, refused.Description)
		return
	}
	if errors.Is(err, cimd.ErrInvalidUTF8) {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "The client_id or redirect_uri is not valid UTF-8.")
		return
	}
	s.provider.WriteAuthorizeError(r.Context(), w, ar, err)
}

// token handles the token endpoint.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	session := &fosite.DefaultSession{}
	ar, err := s.provider.NewAccessRequest(ctx, r, session)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

var consentTemplate = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {{.Name}}</title></head>
<body>
<h1>Authorize {{.Name}}</h1>
<p>The application <strong>{{.Name}}</strong>{{if .Host}}, published at <strong>{{.Host}}</strong>,{{end}} asks to
access your account{{if .Scopes}} with the scopes {{range $i, $s := .Scopes}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}{{end}}.</p>
<p>You will be sent back to <code>{{.RedirectURI}}</code>.</p>
<form method="post" action="authorize">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<button name="consent" value="approve">Allow</button>
</form>
</body></html>
`))

// consentPage asks the user to approve. For a URL client the page names the host that published the document
// (display_host), because the client_name is whatever that host chose to write.
func (s *Server) consentPage(w http.ResponseWriter, ar fosite.AuthorizeRequester) {
	data := struct {
		Name, Host, RedirectURI string
		Scopes                  []string
		Params                  map[string][]string
	}{
		Name:        ar.GetClient().GetID(),
		RedirectURI: ar.GetRedirectURI().String(),
		Scopes:      ar.GetRequestedScopes(),
		Params:      ar.GetRequestForm(),
	}
	if c, ok := ar.GetClient().(*URLClient); ok {
		data.Host = c.Metadata.DisplayHost.Unicode
		if c.Metadata.ClientName != "" {
			data.Name = c.Metadata.ClientName
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	if err := consentTemplate.Execute(w, data); err != nil {
		log.Printf("consent page: %v", err)
	}
}

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><h1>This authorization request cannot be completed</h1>
<p>Error: <code>{{.Error}}</code></p><p>{{.Description}}</p></body></html>
`))

// errorPage shows an OAuth error to the user without redirecting anywhere.
func (s *Server) errorPage(w http.ResponseWriter, status int, oauthError, description string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := errorTemplate.Execute(w, struct{ Error, Description string }{oauthError, description}); err != nil {
		log.Printf("error page: %v", err)
	}
}
