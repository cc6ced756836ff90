package cimd_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
)

// An authorization endpoint resolving a URL client_id and checking the request's redirect_uri.
func ExampleEngine_Resolve() {
	engine, err := cimd.New(cimd.Config{AuthMethodsSupported: []string{"none"}})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	client, err := engine.Resolve(ctx, "https://app.example.com/oauth/client.json",
		cimd.WithRedirectURI("http://localhost:53123/callback"))
	var refused *cimd.Error
	switch {
	case errors.Is(err, cimd.ErrRedirectURIMismatch):
		fmt.Println("show an error page; do not redirect")
	case errors.As(err, &refused):
		fmt.Printf("error=%s error_description=%q\n", refused.OAuthError, refused.Description)
	case err != nil:
		log.Print(err)
	default:
		fmt.Printf("consent for %s, published at %s\n", client.ClientName, client.DisplayHost.Unicode)
	}
}

// Advertising CIMD support in RFC 8414 authorization-server metadata.
func ExampleEngine_DiscoveryMetadata() {
	engine, err := cimd.New(cimd.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer engine.Close()
	metadata := map[string]any{"issuer": "https://auth.example.com"}
	fields, err := engine.DiscoveryMetadata()
	if err != nil {
		log.Fatal(err)
	}
	for k, v := range fields {
		metadata[k] = v
	}
	fmt.Println(metadata["client_id_metadata_document_supported"], metadata["code_challenge_methods_supported"])
	// Output: true [S256]
}
