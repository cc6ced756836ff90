// Package testorigin is the Go client of the test origin (tests/origin/origin.rs at the repository's root, cargo
// example test-origin): the one loopback HTTPS origin, with one throwaway certificate authority per run, that the
// tests of every language start. A test binary starts it once, as a child process whose path is in
// CIMD_TEST_ORIGIN (make go-test sets it), and scripts it through JSON lines on its standard input; it ends when
// that input closes, so a test binary that dies never leaves it running. Every origin a test opens is a listener
// of that one process, with its own routes and request counts.
//
// Network safety: the origin listens on 127.0.0.1 (or [::1]) only, the engine is configured with allow_loopback,
// and every client_id the tests resolve names localhost. Run the tests inside scripts/netns (make go-test does),
// where loopback is the only network there is.
package testorigin

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	cimd "github.com/cimd/cimd/bindings/go"
)

// ControlTimeout bounds the origin's start and each answer to a command.
const ControlTimeout = 30 * time.Second

// program is the one run of the test origin in this test binary.
type program struct {
	mu     sync.Mutex
	stdin  io.WriteCloser
	lines  chan string
	caFile string
}

var (
	startOnce  sync.Once
	theProgram *program
	startErr   error
)

func running() (*program, error) {
	startOnce.Do(func() { theProgram, startErr = start() })
	return theProgram, startErr
}

func start() (*program, error) {
	path := os.Getenv("CIMD_TEST_ORIGIN")
	if path == "" {
		return nil, fmt.Errorf("CIMD_TEST_ORIGIN is not set: run the tests through make go-test (it builds the test " +
			"origin with `cargo build --example test-origin` and sets it), or set it to that program's path")
	}
	cmd := exec.Command(path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the test origin CIMD_TEST_ORIGIN=%s: %w", path, err)
	}
	p := &program{stdin: stdin, lines: make(chan string, 16)}
	go func() {
		scanner := bufio.NewScanner(stdout)
		scanner.Buffer(make([]byte, 64*1024), 64*1024*1024)
		for scanner.Scan() {
			p.lines <- scanner.Text()
		}
		close(p.lines)
	}()
	for {
		line, err := p.next("start")
		if err != nil {
			return nil, err
		}
		if line == "READY" {
			break
		}
		if ca, ok := strings.CutPrefix(line, "CA="); ok {
			p.caFile = ca
		}
	}
	if p.caFile == "" {
		return nil, fmt.Errorf("the test origin printed no CA= line")
	}
	return p, nil
}

func (p *program) next(what string) (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", fmt.Errorf("the test origin exited before answering %s", what)
		}
		return line, nil
	case <-time.After(ControlTimeout):
		return "", fmt.Errorf("the test origin did not answer %s within %s", what, ControlTimeout)
	}
}

// call sends one command and returns the origin's answer, or why it failed or was refused.
func (p *program) call(op string, fields map[string]any) (map[string]any, error) {
	command := map[string]any{"op": op}
	for k, v := range fields {
		command[k] = v
	}
	line, err := json.Marshal(command)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.stdin.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("the test origin is gone: cannot send %s: %w", op, err)
	}
	text, err := p.next(op)
	if err != nil {
		return nil, err
	}
	var answer map[string]any
	if err := json.Unmarshal([]byte(text), &answer); err != nil {
		return nil, fmt.Errorf("the test origin answered %s with %q: %w", op, text, err)
	}
	if answer["ok"] != true {
		return nil, fmt.Errorf("the test origin refused %s: %v", op, answer["error"])
	}
	return answer, nil
}

func mustRun(tb testing.TB) *program {
	tb.Helper()
	p, err := running()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// CA is the certificate authority of this run of the test origin.
type CA struct {
	PEMFile string
}

// NewCA returns the run's CA (starting the test origin if this test binary has not yet).
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	return &CA{PEMFile: mustRun(tb).caFile}
}

// Reply is one scripted answer (the fields of a reply in tests/origin/origin.rs).
type Reply struct {
	Status  int         // 0 means 200
	Headers [][2]string // in order, duplicates kept
	Body    []byte
	Delay   time.Duration // before the status line
	Hang    bool          // never answer
	Reset   bool          // close the connection without answering
}

func (r Reply) wire() map[string]any {
	status := r.Status
	if status == 0 {
		status = 200
	}
	headers := make([][2]string, len(r.Headers))
	copy(headers, r.Headers)
	out := map[string]any{"status": status, "headers": headers, "delay_ms": r.Delay.Milliseconds(),
		"hang": r.Hang, "reset": r.Reset}
	if utf8.Valid(r.Body) {
		out["body"] = string(r.Body)
	} else {
		out["body_hex"] = hex.EncodeToString(r.Body)
	}
	return out
}

// Origin is one listener of the test origin: an HTTPS host for client documents, with its own routes; every
// request is counted.
type Origin struct {
	tb   testing.TB
	p    *program
	id   any
	port string
}

func listen(tb testing.TB, fields map[string]any) *Origin {
	tb.Helper()
	p := mustRun(tb)
	answer, err := p.call("listen", fields)
	if err != nil {
		tb.Fatal(err)
	}
	port, _ := answer["port"].(float64)
	o := &Origin{tb: tb, p: p, id: answer["listener"], port: strconv.Itoa(int(port))}
	tb.Cleanup(func() {
		if _, err := p.call("close", map[string]any{"listener": o.id}); err != nil {
			tb.Error(err)
		}
	})
	return o
}

// New opens an HTTPS origin on 127.0.0.1 for localhost whose certificate ca (the run's CA) issued.
func New(tb testing.TB, ca *CA) *Origin {
	tb.Helper()
	return listen(tb, map[string]any{"names": []string{"localhost"}})
}

// NewUntrusted opens an HTTPS origin on 127.0.0.1 for localhost whose certificate comes from a CA that the
// engine does not trust.
func NewUntrusted(tb testing.TB) *Origin {
	tb.Helper()
	return listen(tb, map[string]any{"tls": "foreign", "names": []string{"localhost"}})
}

// NewOn443 opens an HTTPS origin on 127.0.0.1:443 for the given host names, so that documents can be served at
// their real client_id URLs (port-less https). Only inside scripts/netns, where the test owns the namespace and
// a hosts file maps the names to 127.0.0.1 (tests/fixtures/hosts); elsewhere the test is skipped.
func NewOn443(tb testing.TB, ca *CA, names ...string) *Origin {
	tb.Helper()
	if os.Getenv("CIMD_IN_NETNS") != "1" {
		tb.Skip("port 443 and the test host names exist only inside scripts/netns")
	}
	return listen(tb, map[string]any{"port": 443, "names": append([]string{"localhost"}, names...)})
}

func (o *Origin) call(op string, fields map[string]any) map[string]any {
	o.tb.Helper()
	fields["listener"] = o.id
	answer, err := o.p.call(op, fields)
	if err != nil {
		o.tb.Fatal(err)
	}
	return answer
}

// Route scripts a path: the n-th request gets the n-th reply, and the last one repeats.
func (o *Origin) Route(path string, replies ...Reply) {
	o.tb.Helper()
	wire := make([]map[string]any, len(replies))
	for i, r := range replies {
		wire[i] = r.wire()
	}
	o.call("route", map[string]any{"path": path, "replies": wire})
}

// ServeJSON serves body as application/json with a one-hour max-age.
func (o *Origin) ServeJSON(path string, body []byte) {
	o.tb.Helper()
	o.Route(path, Reply{Headers: [][2]string{{"Content-Type", "application/json"}, {"Cache-Control", "max-age=3600"}},
		Body: body})
}

// ServeDocument serves a valid client document for the client_id of path, with extra members merged in (a nil
// value deletes a member).
func (o *Origin) ServeDocument(path string, extra map[string]any) {
	o.tb.Helper()
	o.ServeJSON(path, Document(o.ClientID(path), extra))
}

// Hits is how many requests reached path.
func (o *Origin) Hits(path string) int64 {
	o.tb.Helper()
	n, _ := o.call("count", map[string]any{"path": path})["count"].(float64)
	return int64(n)
}

// ClientID is the client_id URL of a path on this origin, by the name localhost (IP-literal client_ids are
// always refused).
func (o *Origin) ClientID(path string) string {
	return "https://localhost:" + o.port + path
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
