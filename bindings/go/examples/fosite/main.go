// Command fosite is an example OAuth 2.0 authorization server on ory/fosite (authorization code with PKCE)
// that accepts URL client_ids (OAuth Client ID Metadata Documents) through the cimd Go binding, and keeps
// serving its registered clients.
//
//	go run . -addr 127.0.0.1:8080 -issuer http://127.0.0.1:8080
//
// Then point a client that supports CIMD at http://127.0.0.1:8080/.well-known/oauth-authorization-server.
// A production server listens on https; the issuer must be its public https URL.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/ory/fosite"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	issuer := flag.String("issuer", "http://127.0.0.1:8080", "the server's public URL")
	configFile := flag.String("cimd-config", "", "a JSON file with the cimd configuration keys (default: production defaults)")
	flag.Parse()

	var cfg cimd.Config
	if *configFile != "" {
		raw, err := os.ReadFile(*configFile)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(raw, &cfg.Extra); err != nil {
			log.Fatalf("%s: %v", *configFile, err)
		}
	}
	engine, err := cimd.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()

	server, err := NewServer(Options{
		Issuer: *issuer,
		Engine: engine,
		Registered: []fosite.Client{&fosite.DefaultClient{
			ID:            "demo-app",
			RedirectURIs:  []string{"http://127.0.0.1:9000/callback"},
			GrantTypes:    []string{"authorization_code", "refresh_token"},
			ResponseTypes: []string{"code"},
			Scopes:        []string{"profile", "offline"},
			Public:        true,
		}},
		DefaultScopes: []string{"profile", "offline"},
		Subject:       "demo-user",
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s (issuer %s)", *addr, *issuer)
	srv := &http.Server{Addr: *addr, Handler: server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
