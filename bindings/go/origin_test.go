package cimd_test

// Test fixtures: a throwaway certificate authority and a local HTTPS origin that serves client documents.
//
// Network safety: the origin listens on 127.0.0.1 only (httptest's default), the engine is configured with
// allow_loopback, and every client_id the tests resolve names localhost. Run the tests inside scripts/netns
// (make go-test does), where loopback is the only network there is.

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

// testCA is a certificate authority made for one test run.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemFile string
}

func newTestCA(tb testing.TB) *testCA {
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
	return &testCA{cert: cert, key: key, pemFile: path}
}

// serverCert issues a certificate for localhost and the loopback addresses.
func (ca *testCA) serverCert(tb testing.TB) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
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

// origin is a local HTTPS host for client documents. Handlers are set per path; every request is counted.
type origin struct {
	server *httptest.Server
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	hits   map[string]*atomic.Int64
}

// newOrigin starts an HTTPS origin on 127.0.0.1 whose certificate ca issued.
func newOrigin(tb testing.TB, ca *testCA) *origin {
	tb.Helper()
	o := &origin{routes: map[string]http.HandlerFunc{}, hits: map[string]*atomic.Int64{}}
	o.server = httptest.NewUnstartedServer(http.HandlerFunc(o.serve))
	o.server.TLS = &tls.Config{Certificates: []tls.Certificate{ca.serverCert(tb)}}
	// Handshakes the engine refuses on purpose (an untrusted certificate) are not news.
	o.server.Config.ErrorLog = log.New(io.Discard, "", 0)
	o.server.StartTLS()
	tb.Cleanup(o.server.Close)
	return o
}

func (o *origin) serve(w http.ResponseWriter, r *http.Request) {
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

func (o *origin) counter(path string) *atomic.Int64 {
	c := o.hits[path]
	if c == nil {
		c = new(atomic.Int64)
		o.hits[path] = c
	}
	return c
}

// handle sets the handler of a path.
func (o *origin) handle(path string, h http.HandlerFunc) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.routes[path] = h
}

// serveJSON serves body as application/json with a one-hour max-age.
func (o *origin) serveJSON(path string, body []byte) {
	o.handle(path, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=3600")
		_, _ = w.Write(body)
	})
}

// serveDocument serves a valid client document for the client_id of path, with extra members merged in (a nil
// value deletes a member).
func (o *origin) serveDocument(path string, extra map[string]any) {
	o.serveJSON(path, document(o.clientID(path), extra))
}

// hitCount is how many requests reached path.
func (o *origin) hitCount(path string) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counter(path).Load()
}

// clientID is the client_id URL of a path on this origin, by the name localhost (IP-literal client_ids are
// always refused).
func (o *origin) clientID(path string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(o.server.URL, "https://"))
	return "https://localhost:" + port + path
}

// document is a valid client document for clientID, with extra members merged in (nil deletes).
func document(clientID string, extra map[string]any) []byte {
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

// testConfig is a configuration for the local origin: loopback allowed, the test CA trusted, rate limits that
// no test reaches unless it means to.
func testConfig(ca *testCA) cimd.Config {
	return cimd.Config{
		AllowLoopback: cimd.Ptr(true),
		ExtraCAFile:   cimd.Ptr(ca.pemFile),
		PerHostRate:   &cimd.RateLimit{PerMinute: 100000, Burst: 10000},
	}
}

// newEngine creates an engine that is closed when the test ends.
func newEngine(tb testing.TB, cfg cimd.Config) *cimd.Engine {
	tb.Helper()
	e, err := cimd.New(cfg)
	if err != nil {
		tb.Fatalf("cimd.New: %v", err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}
