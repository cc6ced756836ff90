package cimd

import (
	"errors"
	"fmt"
)

// Code is one of the engine's error codes (docs/contract.md §7), the same snake_case string in every cimd front end.
type Code string

// The error codes. The engine decides which one applies; this package only names them.
const (
	CodeInvalidClientIDURL    Code = "invalid_client_id_url"
	CodeHostNotAllowed        Code = "host_not_allowed"
	CodeBlockedAddress        Code = "blocked_address"
	CodeDNSError              Code = "dns_error"
	CodeConnectError          Code = "connect_error"
	CodeTLSError              Code = "tls_error"
	CodeTimeout               Code = "timeout"
	CodeHTTPStatus            Code = "http_status"
	CodeRedirectNotFollowed   Code = "redirect_not_followed"
	CodeTooLarge              Code = "too_large"
	CodeInvalidContentType    Code = "invalid_content_type"
	CodeInvalidJSON           Code = "invalid_json"
	CodeInvalidMetadata       Code = "invalid_metadata"
	CodeClientIDMismatch      Code = "client_id_mismatch"
	CodeForbiddenMetadata     Code = "forbidden_metadata"
	CodeUnsupportedAuthMethod Code = "unsupported_auth_method"
	CodeRedirectURIMismatch   Code = "redirect_uri_mismatch"
	CodeRateLimited           Code = "rate_limited"
	CodeInternal              Code = "internal"
)

// Error is the engine's refusal of a client_id (or of a redirect_uri for it).
//
// Compare with errors.Is against the sentinels (errors.Is(err, cimd.ErrRedirectURIMismatch)) or read Code.
// OAuthError is the error an authorization server should answer with. For CodeRedirectURIMismatch it is
// "invalid_request", and the server must show an error page and never redirect to the offered redirect_uri.
type Error struct {
	// Code is the engine's error code.
	Code Code
	// Description is a sentence that names the broken rule and its requirement id, for logs and error pages
	// (escape it for HTML: it may quote the client_id).
	Description string
	// OAuthError is "invalid_client", "unauthorized_client" (no authentication method in common, draft -03 §6),
	// "invalid_request", "temporarily_unavailable" or "server_error".
	OAuthError string
	// Transient is true when the failure says nothing about the client and may pass (DNS, connect, TLS,
	// timeout, rate limits, internal): the server may answer temporarily_unavailable and the user may retry.
	Transient bool
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "cimd: " + string(e.Code)
	}
	return "cimd: " + string(e.Code) + ": " + e.Description
}

// Is reports whether target is an *Error with the same Code and no Description (a sentinel), or an equal
// *Error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil {
		return false
	}
	return t.Code == e.Code && (t.Description == "" || t.Description == e.Description)
}

// Sentinels, one per code, for errors.Is.
var (
	ErrInvalidClientIDURL    = &Error{Code: CodeInvalidClientIDURL}
	ErrHostNotAllowed        = &Error{Code: CodeHostNotAllowed}
	ErrBlockedAddress        = &Error{Code: CodeBlockedAddress}
	ErrDNSError              = &Error{Code: CodeDNSError}
	ErrConnectError          = &Error{Code: CodeConnectError}
	ErrTLSError              = &Error{Code: CodeTLSError}
	ErrTimeout               = &Error{Code: CodeTimeout}
	ErrHTTPStatus            = &Error{Code: CodeHTTPStatus}
	ErrRedirectNotFollowed   = &Error{Code: CodeRedirectNotFollowed}
	ErrTooLarge              = &Error{Code: CodeTooLarge}
	ErrInvalidContentType    = &Error{Code: CodeInvalidContentType}
	ErrInvalidJSON           = &Error{Code: CodeInvalidJSON}
	ErrInvalidMetadata       = &Error{Code: CodeInvalidMetadata}
	ErrClientIDMismatch      = &Error{Code: CodeClientIDMismatch}
	ErrForbiddenMetadata     = &Error{Code: CodeForbiddenMetadata}
	ErrUnsupportedAuthMethod = &Error{Code: CodeUnsupportedAuthMethod}
	ErrRedirectURIMismatch   = &Error{Code: CodeRedirectURIMismatch}
	ErrRateLimited           = &Error{Code: CodeRateLimited}
	ErrInternal              = &Error{Code: CodeInternal}
)

// ConfigError is the engine's refusal of a configuration (an unknown key, a wrong type, an out-of-range value,
// an unreadable extra_ca_file). errors.Is(err, ErrConfig) matches it.
type ConfigError struct {
	// Description names the key and what is accepted.
	Description string
}

func (e *ConfigError) Error() string { return "cimd: " + e.Description }

// Unwrap lets errors.Is(err, ErrConfig) match.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// Errors that do not come from the engine's rules.
var (
	// ErrConfig matches every *ConfigError.
	ErrConfig = errors.New("cimd: invalid configuration")
	// ErrClosed is returned by every method of an Engine after Close.
	ErrClosed = errors.New("cimd: engine is closed")
	// ErrNotCached is returned by Probe and Invalidate when the cache holds nothing for the client_id.
	ErrNotCached = errors.New("cimd: nothing cached for this client_id")
	// ErrInvalidUTF8 is returned when a string argument (a client_id or redirect_uri taken from a request) is
	// not valid UTF-8; the C ABI refuses it before the engine sees it. Answer invalid_request.
	ErrInvalidUTF8 = errors.New("cimd: argument is not valid UTF-8")
	// ErrPanic means a bug inside cimd panicked and was stopped at the C boundary; the engine stays usable.
	ErrPanic = errors.New("cimd: internal panic stopped at the C boundary (a bug in cimd; please report it)")
)

// statusError turns an ABI status that is neither success nor an engine verdict into an error.
func statusError(status uint32) error {
	switch status {
	case statusInvalidUTF8:
		return ErrInvalidUTF8
	case statusPanic:
		return ErrPanic
	case statusInvalidHandle:
		return ErrClosed
	case statusNotFound:
		return ErrNotCached
	}
	return fmt.Errorf("cimd: unexpected status %s from the C ABI (a bug in the binding)", statusName(status))
}
