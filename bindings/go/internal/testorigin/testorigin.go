// Package testorigin provides test fixtures for the Go binding and its examples: a throwaway certificate
// authority and a local HTTPS origin that serves client documents.
//
// Network safety: the origin listens on 127.0.0.1 only (httptest's default), the engine is configured with
// allow_loopback, and every client_id the tests resolve names localhost. Run the tests inside scripts/netns
// (make go-test does), where loopback is the only network there is.
package testorigin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
)

// CA is a certificate authority made for one test run.
type CA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	PEMFile string
}

func NewCA(tb testing.TB) *CA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cimd Go binding test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return &CA{cert: cert, key: key, PEMFile: path}
}

// ServerCert issues a certificate for localhost and the loopback addresses, and for the extra DNS names given.
func (ca *CA) ServerCert(tb testing.TB, names ...string) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     append([]string{"localhost"}, names...),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Origin is a local HTTPS host for client documents. Handlers are set per path; every request is counted.
type Origin struct {
	server *httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   map[string]*atomic.Int64
}

// New starts an HTTPS origin on 127.0.0.1 whose certificate ca issued.
func New(tb testing.TB, ca *CA) *Origin {
	tb.Helper()
	return start(tb, ca, nil)
}

// NewOn443 starts an HTTPS origin on 127.0.0.1:443 for the given host names, so that documents can be served at
// their real client_id URLs (port-less https). Only inside scripts/netns, where the test owns the namespace and
// a hosts file maps the names to 127.0.0.1 (tests/fixtures/hosts); elsewhere the test is skipped.
func NewOn443(tb testing.TB, ca *CA, names ...string) *Origin {
	tb.Helper()
	if os.Getenv("CIMD_IN_NETNS") != "1" {
		tb.Skip("port 443 and the test host names exist only inside scripts/netns")
	}
	listener, err := net.Listen("tcp", "127.0.0.1:443")
	if err != nil {
		tb.Fatalf("listening on 127.0.0.1:443: %v", err)
	}
	return start(tb, ca, listener, names...)
}

func start(tb testing.TB, ca *CA, listener net.Listener, names ...string) *Origin {
	o := &Origin{routes: map[string]http.HandlerFunc{}, hits: map[string]*atomic.Int64{}}
	o.server = httptest.NewUnstartedServer(http.HandlerFunc(o.serveHTTP))
	if listener != nil {
		_ = o.server.Listener.Close()
		o.server.Listener = listener
	}
	o.server.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(tb, names...)}}
	// Handshakes the engine refuses on purpose (an untrusted certificate) are not news.
	o.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	o.server.StartTLS()
	tb.Cleanup(o.server.Close)
	return o
}

func (o *Origin) serveHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	route, counter := o.routes[r.URL.Path], o.counter(r.URL.Path)
	o.mu.Unlock()
	counter.Add(1)
	if route == nil {
		http.NotFound(w, r)
		return
	}
	route(w, r)
}

func (o *Origin) counter(path string) *atomic.Int64 {
	c := o.hits[path]
	if c == nil {
		c = new(atomic.Int64)
		o.hits[path] = c
	}
	return c
}

// Handle sets the handler of a path.
func (o *Origin) Handle(path string, h http.HandlerFunc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[path] = h
}

// ServeJSON serves body as application/json with a one-hour max-age.
func (o *Origin) ServeJSON(path string, body []byte) {
	o.Handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(body)
	})
}

// ServeDocument serves a valid client document for the client_id of path, with extra members merged in (a nil
// value deletes a member).
func (o *Origin) ServeDocument(path string, extra map[string]any) {
	o.ServeJSON(path, Document(o.ClientID(path), extra))
}

// Hits is how many requests reached path.
func (o *Origin) Hits(path string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counter(path).Load()
}

// ClientID is the client_id URL of a path on this origin, by the name localhost (IP-literal client_ids are
// always refused).
func (o *Origin) ClientID(path string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(o.server.URL, "https://"))
	return "https://localhost:" + port + path
}

// Document is a valid client document for clientID, with extra members merged in (nil deletes).
func Document(clientID string, extra map[string]any) []byte {
	doc := map[string]any{
		"client_id":     clientID,
		"client_name":   "Test Client",
		"redirect_uris": []string{"https://app.example/callback", "http://localhost/callback"},
	}
	for k, v := range extra {
		if v == nil {
			delete(doc, k)
		} else {
			doc[k] = v
		}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return body
}

// Config is a configuration for the local origin: loopback allowed, the test CA trusted, rate limits that
// no test reaches unless it means to.
func Config(ca *CA) cimd.Config {
	return cimd.Config{
		AllowLoopback: cimd.Ptr(true),
		ExtraCAFile:   cimd.Ptr(ca.PEMFile),
		PerHostRate:   &cimd.RateLimit{PerMinute: 100000, Burst: 10000},
	}
}
