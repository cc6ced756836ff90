// Command mcp-client-go is the MCP end-to-end suite's Go SDK client program
// (github.com/modelcontextprotocol/go-sdk v1.8.0).
//
//	mcp-client-go --server-url http://127.0.0.1:PORT/mcp --client-id https://HOST/PATH.json \
//	              --callback-port N [--refresh-after SECONDS]
//
// The SDK's auth.AuthorizationCodeHandler does the OAuth work when the MCP server answers 401: protected
// resource metadata (RFC 9728), authorization server metadata (RFC 8414 / OpenID discovery), the client_id
// (the ClientIDMetadataDocumentConfig URL, used when the authorization server says
// client_id_metadata_document_supported), PKCE, state and RFC 9207 iss checks, the code exchange; the
// golang.org/x/oauth2 token source it builds refreshes the access token once it is (nearly) expired. This file
// only prints the authorization URL instead of opening a browser and listens on the loopback callback, as a
// command-line MCP client would.
//
// stdout carries only the JSON lines that tests/mcp/harness.py reads, one per step (authorize, callback,
// tool 1, tool 2, done, or error with exit 1); everything else goes to stderr.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	callbackWait = 120 * time.Second
	toolTimeout  = 60 * time.Second
	tool         = "whoami"
)

// emit writes one JSON object with its keys in the given order (pairs of key, value) as a line on stdout.
func emit(pairs ...any) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the authorization URL's & stay as they are
		enc.Encode(pairs[i])
		b.Truncate(b.Len() - 1) // Encode ends each value with a newline
		b.WriteByte(':')
		enc.Encode(pairs[i+1])
		b.Truncate(b.Len() - 1)
	}
	b.WriteString("}\n")
	os.Stdout.Write(b.Bytes())
}

func fail(err error) {
	log.Printf("error: %v", err)
	emit("step", "error", "message", err.Error())
	os.Exit(1)
}

// callback is the loopback redirect_uri listener; it hands over the first request's query parameters.
type callback struct {
	once     sync.Once
	received chan map[string]string
	server   *http.Server

	mu       sync.Mutex
	asked    bool  // one login per run: the harness's browser opens one authorization URL
	firstErr error // how that login ended, when it failed
}

func listen(port int) (*callback, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	cb := &callback{received: make(chan map[string]string, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		params := map[string]string{}
		var names []string
		for k := range q {
			params[k] = q.Get(k)
			names = append(names, k)
		}
		log.Printf("callback: %s", strings.Join(names, ", "))
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Connection", "close")
		if params["error"] != "" {
			fmt.Fprint(w, "<!doctype html><title>Authorization failed</title><p>Authorization failed. You can close this window.")
		} else {
			fmt.Fprint(w, "<!doctype html><title>Authorized</title><p>Authorization complete. You can close this window.")
		}
		cb.once.Do(func() { cb.received <- params })
	})
	cb.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go cb.server.Serve(ln)
	return cb, nil
}

// fetch is the handler's AuthorizationCodeFetcher: it hands the URL to the harness (whose browser opens
// it) and waits for the redirect to the loopback callback. The SDK checks state and iss.
//
// v1.8.0's Client.Connect first sends server/discover and falls back to initialize on any error, an
// authorization error included, so a failed login would be asked for a second time: the second request
// gets the first one's error instead of a second authorize line.
func (cb *callback) fetch(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	if cb.asked {
		if cb.firstErr != nil {
			return nil, cb.firstErr
		}
		return nil, errors.New("the SDK asked for a second authorization in one run (the refresh failed?)")
	}
	cb.asked = true
	res, err := cb.wait(ctx, args.URL)
	cb.firstErr = err
	return res, err
}

func (cb *callback) wait(ctx context.Context, authURL string) (*auth.AuthorizationResult, error) {
	emit("step", "authorize", "url", authURL)
	timer := time.NewTimer(callbackWait)
	defer timer.Stop()
	var params map[string]string
	select {
	case params = <-cb.received:
	case <-timer.C:
		return nil, fmt.Errorf("no callback within %v", callbackWait)
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the callback: %w", ctx.Err())
	}
	if e := params["error"]; e != "" {
		emit("step", "callback", "error", e, "error_description", params["error_description"])
		msg := "authorization server returned " + e
		if d := params["error_description"]; d != "" {
			msg += ": " + d
		}
		return nil, errors.New(msg)
	}
	if params["code"] == "" {
		emit("step", "callback", "error", "no_code", "error_description", "callback without code or error")
		return nil, errors.New("callback without code or error")
	}
	emit("step", "callback", "code_received", true)
	return &auth.AuthorizationResult{Code: params["code"], State: params["state"], Iss: params["iss"]}, nil
}

func whoami(session *mcp.ClientSession, call int) error {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: map[string]any{}})
	if err != nil {
		return fmt.Errorf("tool call %d: %w", call, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			text.WriteString(t.Text)
		}
	}
	if res.IsError {
		return fmt.Errorf("tool %s failed: %s", tool, text.String())
	}
	emit("step", "tool", "call", call, "result", text.String())
	return nil
}

func run() error {
	serverURL := flag.String("server-url", "", "MCP endpoint, http://127.0.0.1:PORT/mcp")
	clientID := flag.String("client-id", "", "client ID metadata document URL (https)")
	port := flag.Int("callback-port", 0, "loopback port of the redirect_uri http://127.0.0.1:N/callback")
	refreshAfter := flag.Float64("refresh-after", 0, "seconds to wait between the two tool calls")
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError) // a bad flag is an error line too
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *serverURL == "" || *clientID == "" || *port <= 0 || *port > 65535 || *refreshAfter < 0 || flag.NArg() > 0 {
		flag.Usage()
		return errors.New("usage: --server-url URL --client-id URL --callback-port N [--refresh-after SECONDS]")
	}

	cb, err := listen(*port)
	if err != nil {
		return fmt.Errorf("callback listener: %w", err)
	}
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		// Only the document: an authorization server without client_id_metadata_document_supported makes the
		// handler fail ("no configured client registration methods are supported") instead of registering.
		ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: *clientID},
		RedirectURL:                    fmt.Sprintf("http://127.0.0.1:%d/callback", *port),
		AuthorizationCodeFetcher:       cb.fetch,
		// A CLI that keeps its refresh token: the handler adds offline_access when the authorization
		// server's metadata lists it in scopes_supported.
		RequestRefreshToken: true,
	})
	if err != nil {
		return err
	}

	client := mcp.NewClient(&mcp.Implementation{Name: "cimd-e2e-go", Version: "1.0.0"}, nil)
	transport := &mcp.StreamableClientTransport{Endpoint: *serverURL, OAuthHandler: handler}
	ctx, cancel := context.WithTimeout(context.Background(), callbackWait+toolTimeout)
	session, err := client.Connect(ctx, transport, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer session.Close()
	cb.server.Close()

	if err := whoami(session, 1); err != nil {
		return err
	}
	if *refreshAfter > 0 {
		log.Printf("waiting %v s", *refreshAfter)
		time.Sleep(time.Duration(*refreshAfter * float64(time.Second)))
	}
	if err := whoami(session, 2); err != nil {
		return err
	}
	emit("step", "done")
	return nil
}

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("[mcp-client-go] ")
	log.SetOutput(os.Stderr)
	if err := run(); err != nil {
		fail(err)
	}
}
