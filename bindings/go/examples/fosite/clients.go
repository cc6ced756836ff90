package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"
)

// Store is fosite's storage with one change: GetClient also knows URL client_ids. Registered clients come from
// the in-memory client table as before; any other client_id goes to the cimd engine, which fetches, validates
// and caches its metadata document. Everything else (codes, PKCE sessions, tokens) is fosite's memory store.
type Store struct {
	*storage.MemoryStore
	engine *cimd.Engine
	// defaultScopes are the scopes a URL client may request when its document names none.
	defaultScopes []string
}

// NewStore wraps a fosite memory store holding the registered clients.
func NewStore(engine *cimd.Engine, registered []fosite.Client, defaultScopes []string) *Store {
	mem := storage.NewMemoryStore()
	for _, c := range registered {
		mem.Clients[c.GetID()] = c
	}
	return &Store{MemoryStore: mem, engine: engine, defaultScopes: defaultScopes}
}

// GetClient returns a registered client, or resolves the client_id as a Client ID Metadata Document.
//
// During an authorization request (fosite puts the request in ctx before it looks the client up), the request's
// redirect_uri goes to the engine with the client_id, so that cimd's redirect_uri rule (byte-exact, plus any
// port for http loopback redirects per RFC 8252 §7.3) decides, not a second implementation here. A URI the
// engine accepted is then the one redirect URI fosite sees for this request. A refusal comes back as a
// *cimd.Error inside fosite's invalid_client error; the authorize handler shows it without redirecting.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	registered, err := s.MemoryStore.GetClient(ctx, id)
	if err == nil {
		return registered, nil
	}
	if !errors.Is(err, fosite.ErrNotFound) {
		return nil, err
	}

	redirectURI := ""
	var opts []cimd.ResolveOption
	if ar, ok := ctx.Value(fosite.AuthorizeRequestContextKey).(*fosite.AuthorizeRequest); ok {
		if redirectURI = ar.Form.Get("redirect_uri"); redirectURI != "" {
			opts = append(opts, cimd.WithRedirectURI(redirectURI))
		}
	}
	client, err := s.engine.Resolve(ctx, id, opts...)
	if err != nil {
		return nil, err
	}
	return s.fositeClient(client, redirectURI)
}

// fositeClient presents a resolved document to fosite. The engine has already applied every CIMD rule; this
// only carries the result over.
func (s *Store) fositeClient(c *cimd.Client, checkedRedirectURI string) (fosite.Client, error) {
	// This server configures the engine with auth_methods_supported ["none"], so the engine refuses any other
	// method (unsupported_auth_method) and every URL client here is a public client using PKCE.
	if c.TokenEndpointAuthMethod != "none" {
		return nil, fmt.Errorf("client %s negotiated token endpoint auth method %q, which this server does not configure",
			c.ClientID, c.TokenEndpointAuthMethod)
	}
	redirectURIs := c.RedirectURIs
	if checkedRedirectURI != "" {
		redirectURIs = []string{checkedRedirectURI}
	}
	scopes := strings.Fields(c.Scope)
	if len(scopes) == 0 {
		scopes = s.defaultScopes
	}
	return &URLClient{
		DefaultClient: fosite.DefaultClient{
			ID:            c.ClientID,
			RedirectURIs:  redirectURIs,
			GrantTypes:    c.GrantTypes,
			ResponseTypes: c.ResponseTypes,
			Scopes:        scopes,
			Public:        true,
		},
		Metadata: c,
	}, nil
}

// URLClient is a fosite client whose registration is a resolved Client ID Metadata Document. Metadata keeps
// the display fields (client name, display host, logo) for the consent page.
type URLClient struct {
	fosite.DefaultClient
	Metadata *cimd.Client
}
