package cimd_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	cimd "github.com/cimd/cimd/bindings/go"
)

func TestConfigMarshalsToTheSharedKeys(t *testing.T) {
	cfg := cimd.Config{
		AllowLoopback:           cimd.Ptr(true),
		PrivateNetworkAllowlist: []cimd.PrivateNetworkGrant{{Host: "docs.corp.example", CIDRs: []string{"10.20.0.0/16"}}},
		ExtraCAFile:             cimd.Ptr("/etc/ca.pem"),
		AllowedHosts:            []string{"*.example.com"},
		DeniedHosts:             []string{"bad.example.com"},
		AllowQuery:              cimd.Ptr(false),
		AllowRootPath:           cimd.Ptr(false),
		MaxDocumentBytes:        cimd.Ptr[uint64](5120),
		ConnectTimeoutMS:        cimd.Ptr[uint64](2000),
		FetchTimeoutMS:          cimd.Ptr[uint64](5000),
		MinCacheTTLS:            cimd.Ptr[uint64](60),
		MaxCacheTTLS:            cimd.Ptr[uint64](86400),
		StaleWhileRevalidateS:   cimd.Ptr[uint64](60),
		StaleIfErrorS:           cimd.Ptr[uint64](3600),
		CacheMaxEntries:         cimd.Ptr[uint64](10000),
		CacheMaxBytes:           cimd.Ptr[uint64](64 << 20),
		AuthMethodsSupported:    []string{"none"},
		GrantTypesSupported:     []string{"authorization_code"},
		ResponseTypesSupported:  []string{"code"},
		LoopbackAnyPort:         cimd.Ptr(true),
		MaxConcurrentFetches:    cimd.Ptr[uint64](32),
		PerHostConcurrency:      cimd.Ptr[uint64](4),
		PerHostRate:             &cimd.RateLimit{PerMinute: 60, Burst: 20},
		MaxJSONDepth:            cimd.Ptr[uint64](32),
		MaxArrayItems:           cimd.Ptr[uint64](64),
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]any
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	// Every key the engine describes is a field of Config, and every field is a key the engine describes.
	schema, err := cimd.ConfigSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range schema {
		if _, ok := keys[k.Name]; !ok {
			t.Errorf("the engine's key %q has no field in cimd.Config (marshalled: %s)", k.Name, raw)
		}
	}
	if len(keys) != len(schema) {
		t.Errorf("Config sets %d keys, the engine describes %d: %s", len(keys), len(schema), raw)
	}
	fields := reflect.TypeOf(cimd.Config{})
	named := map[string]bool{}
	for _, k := range schema {
		named[k.Name] = true
	}
	for i := 0; i < fields.NumField(); i++ {
		tag := strings.Split(fields.Field(i).Tag.Get("json"), ",")[0]
		if tag != "-" && !named[tag] {
			t.Errorf("Config field %s names %q, which the engine does not describe", fields.Field(i).Name, tag)
		}
	}
	// Without the file named above the engine refuses it; with it cleared, the engine takes every key.
	cfg.ExtraCAFile = nil
	e, err := cimd.New(cfg)
	if err != nil {
		t.Fatalf("the engine refused a configuration with every key: %v", err)
	}
	_ = e.Close()

	empty, _ := json.Marshal(cimd.Config{})
	if string(empty) != "{}" {
		t.Errorf("the zero Config marshals to %s, want {}", empty)
	}
}

func TestConfigErrorsComeFromTheEngine(t *testing.T) {
	for name, cfg := range map[string]cimd.Config{
		"unknown key":         {Extra: map[string]any{"max_doc_bytes": 100}},
		"wrong type":          {Extra: map[string]any{"allow_query": "yes"}},
		"out of range":        {MaxDocumentBytes: cimd.Ptr[uint64](0)},
		"empty required list": {AuthMethodsSupported: []string{}},
		"unknown method":      {AuthMethodsSupported: []string{"client_secret"}},
		"unreadable CA file":  {ExtraCAFile: cimd.Ptr("/nonexistent/ca.pem")},
	} {
		e, err := cimd.New(cfg)
		if err == nil {
			_ = e.Close()
			t.Errorf("%s: accepted", name)
			continue
		}
		var ce *cimd.ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, cimd.ErrConfig) || ce.Description == "" {
			t.Errorf("%s: err = %#v, want a *ConfigError with a description", name, err)
		}
	}
	if _, err := cimd.New(cimd.Config{AllowQuery: cimd.Ptr(true), Extra: map[string]any{"allow_query": false}}); err == nil ||
		!strings.Contains(err.Error(), "allow_query") {
		t.Errorf("a key set twice: err = %v", err)
	}
	// Extra passes keys through to the engine.
	e, err := cimd.New(cimd.Config{Extra: map[string]any{"allow_query": true}})
	if err != nil {
		t.Fatalf("Extra with a known key: %v", err)
	}
	_ = e.Close()
}

func TestConfigSchemaDescribesEveryKey(t *testing.T) {
	schema, err := cimd.ConfigSchema()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range schema {
		if k.Title == "" || k.Description == "" || k.Type == "" {
			t.Errorf("%s: incomplete description %+v", k.Name, k)
		}
		if k.Type == "integer" {
			if k.Min == nil || k.Max == nil {
				t.Errorf("%s: an integer without bounds", k.Name)
				continue
			}
			// One past the top is refused, naming the key.
			_, err := cimd.New(cimd.Config{Extra: map[string]any{k.Name: *k.Max + 1}})
			var ce *cimd.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(ce.Description, k.Name) {
				t.Errorf("%s = max+1: err = %v", k.Name, err)
			}
		}
	}
	// A host may pass its own method list, shared-secret methods included (docs/contract.md §12.2).
	e, err := cimd.New(cimd.Config{AuthMethodsSupported: []string{"client_secret_basic", "none", "private_key_jwt"}})
	if err != nil {
		t.Fatalf("a host's own method list: %v", err)
	}
	_ = e.Close()
	// Errors name the key path.
	_, err = cimd.New(cimd.Config{Extra: map[string]any{"per_host_rate": map[string]any{"per_minute": 60}}})
	if err == nil || !strings.Contains(err.Error(), "per_host_rate.burst: missing") {
		t.Errorf("a missing nested field: err = %v", err)
	}
}

// The README's table maps every field to the key the engine describes, in the engine's order.
func TestReadmeNamesEveryKey(t *testing.T) {
	raw, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\| `([a-z_]+)` \\|$")
	fields := reflect.TypeOf(cimd.Config{})
	var keys []string
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		f, ok := fields.FieldByName(m[1])
		if !ok || strings.Split(f.Tag.Get("json"), ",")[0] != m[2] {
			t.Errorf("README row %s → %s does not match the struct", m[1], m[2])
		}
		keys = append(keys, m[2])
	}
	schema, err := cimd.ConfigSchema()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, k := range schema {
		want = append(want, k.Name)
	}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("README keys %v, the engine describes %v", keys, want)
	}
}

func TestDiscoveryMetadata(t *testing.T) {
	e, err := cimd.New(cimd.Config{AuthMethodsSupported: []string{"none", "private_key_jwt"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	d, err := e.DiscoveryMetadata()
	if err != nil {
		t.Fatal(err)
	}
	if d["client_id_metadata_document_supported"] != true {
		t.Errorf("client_id_metadata_document_supported = %v", d["client_id_metadata_document_supported"])
	}
	methods, _ := json.Marshal(d["token_endpoint_auth_methods_supported"])
	pkce, _ := json.Marshal(d["code_challenge_methods_supported"])
	if string(methods) != `["none","private_key_jwt"]` || string(pkce) != `["S256"]` {
		t.Errorf("discovery = %v", d)
	}
}

func TestABIVersion(t *testing.T) {
	major, _, _ := cimd.ABIVersion()
	if major != 1 {
		t.Errorf("ABI major %d, want 1", major)
	}
}
