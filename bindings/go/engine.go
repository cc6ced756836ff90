package cimd

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// abiErr is the outcome of the ABI check made when the package is initialised; New refuses to run on a
// mismatch.
var abiErr = checkABI()

// ABIVersion reports the C ABI version of the linked engine library.
func ABIVersion() (major, minor, patch uint32) { return abiVersion() }

// Engine resolves URL client_ids: one configuration, one cache, one I/O runtime inside the Rust engine.
//
// Create one per configuration with New and share it: every method is safe for concurrent use by any number of
// goroutines. Close releases it; a finalizer does so too if it becomes unreachable unclosed, but do not rely on
// it, because the engine holds threads and a cache the garbage collector cannot see.
type Engine struct {
	// mu lets calls run concurrently (read lock) and makes Close wait for them (write lock), because the C ABI
	// forbids freeing an engine while another thread is inside a call on it.
	mu  sync.RWMutex
	ptr *engineHandle

	decoded *decodedClients
}

// New creates an engine from a configuration. A configuration the engine refuses is a *ConfigError.
func New(cfg Config) (*Engine, error) {
	if abiErr != nil {
		return nil, abiErr
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	ptr, status, cerr := abiEngineNew(raw)
	if status != statusOK {
		if cerr != nil {
			return nil, takeEngineError(cerr)
		}
		return nil, statusError(status)
	}
	e := &Engine{ptr: ptr, decoded: newDecodedClients(cfg.cacheBound())}
	runtime.SetFinalizer(e, (*Engine).finalize)
	return e, nil
}

// finalized counts engines released by their finalizer, which means a missing Close (tests read it).
var finalized atomic.Int64

func (e *Engine) finalize() {
	finalized.Add(1)
	_ = e.Close()
}

// Close releases the engine. It waits for calls in progress; later calls return ErrClosed. Closing twice is
// harmless. Clients already returned stay valid (they are plain Go values).
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ptr == nil {
		return nil
	}
	abiEngineFree(&e.ptr)
	runtime.SetFinalizer(e, nil)
	e.decoded.clear()
	return nil
}

// enter takes the read lock for one call and returns the live handle, or nil (lock not held) after Close.
func (e *Engine) enter() *engineHandle {
	e.mu.RLock()
	if e.ptr == nil {
		e.mu.RUnlock()
		return nil
	}
	return e.ptr
}

func (e *Engine) leave() {
	e.mu.RUnlock()
	// The handle was read from e: keep e (and so its finalizer) alive until the C call has returned.
	runtime.KeepAlive(e)
}

// ResolveOption adjusts one Resolve call.
type ResolveOption func(*resolveOptions)

type resolveOptions struct {
	redirectURI *string
}

// applyOptions collects the options. Kept out of Resolve so that a call without options allocates nothing (the
// options escape to the heap, since each one is a function that takes their address).
func applyOptions(opts []ResolveOption) *resolveOptions {
	o := new(resolveOptions)
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// WithRedirectURI checks uri as an authorization request's redirect_uri against the client's registered
// redirect_uris. A mismatch is ErrRedirectURIMismatch: show an error page, never redirect to uri.
func WithRedirectURI(uri string) ResolveOption {
	return func(o *resolveOptions) { o.redirectURI = &uri }
}

// Resolve turns a client_id (an https URL) into a validated registration: from the cache while fresh, else by
// fetching and validating its document. Concurrent calls for one client_id share a single fetch.
//
// The context's deadline becomes the call's deadline (it can only shorten the configured fetch_timeout_ms; a
// cache hit answers whatever the deadline). A context that is already done returns its error at once. The call
// cannot be interrupted by cancellation once it is in the engine; give the context a deadline to bound it.
//
// A refusal is an *Error (compare with errors.Is against the sentinels, or read Code and OAuthError).
func (e *Engine) Resolve(ctx context.Context, clientID string, opts ...ResolveOption) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var redirectURI *string
	if len(opts) > 0 {
		redirectURI = applyOptions(opts).redirectURI
	}
	h := e.enter()
	if h == nil {
		return nil, ErrClosed
	}
	known := e.decoded.get(clientID)
	out := abiResolve(h, clientID, redirectURI, deadlineMS(ctx), known.generation())
	e.leave()
	return e.answer(clientID, known, &out)
}

// Refresh fetches a client_id's document again now, whatever its freshness (conditionally, when the cache
// holds validators). A changed document has a new Generation and lists what changed in Changed.
func (e *Engine) Refresh(ctx context.Context, clientID string) (*Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := e.enter()
	if h == nil {
		return nil, ErrClosed
	}
	known := e.decoded.get(clientID)
	out := abiRefresh(h, clientID, deadlineMS(ctx), known.generation())
	e.leave()
	return e.answer(clientID, known, &out)
}

// Probe returns the cached answer for a client_id without any I/O and without starting a refresh, or
// ErrNotCached if a Resolve would have to fetch. It does not check a redirect_uri: Resolve for that.
func (e *Engine) Probe(clientID string) (*Client, error) {
	h := e.enter()
	if h == nil {
		return nil, ErrClosed
	}
	known := e.decoded.get(clientID)
	out := abiProbe(h, clientID, known.generation())
	e.leave()
	return e.answer(clientID, known, &out)
}

// Invalidate forgets the cached document of a client_id, so that the next Resolve fetches it again. It returns
// ErrNotCached if there was none.
func (e *Engine) Invalidate(clientID string) error {
	h := e.enter()
	if h == nil {
		return ErrClosed
	}
	status := abiInvalidate(h, clientID)
	e.leave()
	e.decoded.forget(clientID)
	if status != statusOK {
		return statusError(status)
	}
	return nil
}

// answer turns the outcome of a resolve, probe or refresh into a Client or an error, decoding the result JSON
// only when its generation is not the one already decoded for this client_id.
func (e *Engine) answer(clientID string, known *Client, out *outcome) (*Client, error) {
	switch out.status {
	case statusOK:
		if out.result == nil {
			// The generation we passed in: the C side already freed the result, the decoded Client is current.
			c := known.withAnswer(out.source, out.expiresMS)
			if c != known {
				e.decoded.put(clientID, c)
			}
			return c, nil
		}
		c, err := decodeClient(out.json, out.source, out.expiresMS)
		out.free()
		if err != nil {
			return nil, err
		}
		e.decoded.put(clientID, c)
		return c, nil
	case statusRejected:
		if out.err != nil {
			return nil, takeEngineError(out.err)
		}
	}
	return nil, statusError(out.status)
}

// deadlineMS converts the context's deadline into the ABI's per-call timeout: 0 for none, else at least 1 ms
// (0 would mean "no deadline"), rounded up.
func deadlineMS(ctx context.Context) uint64 {
	deadline, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	left := time.Until(deadline)
	if left < time.Millisecond {
		return 1
	}
	return uint64((left + time.Millisecond - 1) / time.Millisecond)
}

// Stats are the engine's counters.
type Stats struct {
	Hits                uint64 `json:"hits"`
	Misses              uint64 `json:"misses"`
	Fetches             uint64 `json:"fetches"`
	NotModified         uint64 `json:"not_modified"`
	CoalescedWaits      uint64 `json:"coalesced_waits"`
	StaleServed         uint64 `json:"stale_served"`
	BackgroundRefreshes uint64 `json:"background_refreshes"`
	Evictions           uint64 `json:"evictions"`
	Invalidations       uint64 `json:"invalidations"`
	Entries             uint64 `json:"entries"`
	CacheBytes          uint64 `json:"cache_bytes"`
	// Failures counts refusals by error code.
	Failures map[Code]uint64 `json:"failures"`
	// Resolutions counts resolutions by outcome: the successful ones by source, and the failed ones.
	Resolutions struct {
		Network uint64 `json:"network"`
		Cache   uint64 `json:"cache"`
		Stale   uint64 `json:"stale"`
		Failed  uint64 `json:"failed"`
	} `json:"resolutions"`
	// FetchResults counts fetches by how the host answered.
	FetchResults struct {
		Document    uint64 `json:"document"`
		NotModified uint64 `json:"not_modified"`
		Error       uint64 `json:"error"`
	} `json:"fetch_results"`
	// FetchDurationMs is the fetch-duration histogram: fixed upper bounds in milliseconds, cumulative counts
	// per bound, the count of all fetches and their summed duration in microseconds.
	FetchDurationMs struct {
		Le     []uint64 `json:"le"`
		Counts []uint64 `json:"counts"`
		Count  uint64   `json:"count"`
		SumUs  uint64   `json:"sum_us"`
	} `json:"fetch_duration_ms"`
}

// Stats reads the engine's counters.
func (e *Engine) Stats() (Stats, error) {
	var s Stats
	err := e.readJSON(callStats, &s)
	return s, err
}

// Entry describes one cached document, for operators.
type Entry struct {
	ClientID string `json:"client_id"`
	// State is "fresh", "stale" (servable while revalidating or while the host fails) or "expired".
	State       string    `json:"state"`
	FetchedAt   time.Time `json:"fetched_at"`
	ConfirmedAt time.Time `json:"confirmed_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Generation  uint64    `json:"generation"`
	ETag        string    `json:"etag"`
	Bytes       uint64    `json:"bytes"`
	ClientName  string    `json:"client_name"`
	Changed     []string  `json:"changed"`
}

// Entries lists the cached documents, for operators.
func (e *Engine) Entries() ([]Entry, error) {
	var entries []Entry
	err := e.readJSON(callEntries, &entries)
	return entries, err
}

// DiscoveryMetadata returns the members an authorization server adds to its metadata (RFC 8414 and OpenID
// discovery) when it accepts URL client_ids: client_id_metadata_document_supported,
// token_endpoint_auth_methods_supported and code_challenge_methods_supported. Clients such as Claude choose
// CIMD only when all of them are present. The map is the caller's to merge into its own metadata document.
func (e *Engine) DiscoveryMetadata() (map[string]any, error) {
	var fields map[string]any
	err := e.readJSON(callDiscovery, &fields)
	return fields, err
}

func (e *Engine) readJSON(call jsonCall, into any) error {
	h := e.enter()
	if h == nil {
		return ErrClosed
	}
	raw, status := abiJSON(h, call)
	e.leave()
	if status != statusOK {
		return statusError(status)
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("cimd: decoding the engine's JSON: %w (a bug in the binding)", err)
	}
	return nil
}

// takeEngineError turns an ABI error object into a Go error and frees it.
func takeEngineError(cerr *errorHandle) error {
	status, code, message, oauthError, transient := takeError(cerr)
	switch status {
	case statusConfigError:
		return &ConfigError{Description: message}
	case statusRejected:
		return &Error{Code: Code(code), Description: message, OAuthError: oauthError, Transient: transient}
	}
	return statusError(status)
}
