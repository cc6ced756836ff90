package cimd

import (
	"runtime"
	"testing"
	"time"
)

// TestCodesMatchTheABI: the Go names of the error codes are the ABI's, number for number (include/cimd.h), so a
// code renamed or added in the engine shows up here.
func TestCodesMatchTheABI(t *testing.T) {
	codes := []Code{CodeInvalidClientIDURL, CodeHostNotAllowed, CodeBlockedAddress, CodeDNSError, CodeConnectError,
		CodeTLSError, CodeTimeout, CodeHTTPStatus, CodeRedirectNotFollowed, CodeTooLarge, CodeInvalidContentType,
		CodeInvalidJSON, CodeInvalidMetadata, CodeClientIDMismatch, CodeForbiddenMetadata,
		CodeUnsupportedAuthMethod, CodeRedirectURIMismatch, CodeRateLimited, CodeInternal}
	sentinels := []*Error{ErrInvalidClientIDURL, ErrHostNotAllowed, ErrBlockedAddress, ErrDNSError, ErrConnectError,
		ErrTLSError, ErrTimeout, ErrHTTPStatus, ErrRedirectNotFollowed, ErrTooLarge, ErrInvalidContentType,
		ErrInvalidJSON, ErrInvalidMetadata, ErrClientIDMismatch, ErrForbiddenMetadata, ErrUnsupportedAuthMethod,
		ErrRedirectURIMismatch, ErrRateLimited, ErrInternal}
	for i, code := range codes {
		if got := codeName(uint32(i + 1)); got != string(code) {
			t.Errorf("ABI code %d is %q, Go has %q", i+1, got, code)
		}
		if sentinels[i].Code != code {
			t.Errorf("sentinel %d has code %q, want %q", i, sentinels[i].Code, code)
		}
	}
	if extra := codeName(uint32(len(codes) + 1)); extra != "" {
		t.Errorf("the ABI has a code %d (%q) this package does not name", len(codes)+1, extra)
	}
	for number, want := range map[uint32]Source{1: SourceNetwork, 2: SourceCache, 3: SourceStale} {
		if got := sourceOf(number); got != want {
			t.Errorf("source %d is %q, want %q", number, got, want)
		}
	}
}

func TestStatusNames(t *testing.T) {
	for status, want := range map[uint32]error{statusInvalidUTF8: ErrInvalidUTF8, statusPanic: ErrPanic,
		statusInvalidHandle: ErrClosed, statusNotFound: ErrNotCached} {
		if got := statusError(status); got != want {
			t.Errorf("status %s: %v, want %v", statusName(status), got, want)
		}
	}
	if got := statusError(statusInvalidArgument).Error(); got != "cimd: unexpected status invalid_argument from the C ABI (a bug in the binding)" {
		t.Errorf("invalid_argument: %q", got)
	}
}

// TestFinalizerReleasesAnUnclosedEngine: an engine dropped without Close is released by its finalizer.
func TestFinalizerReleasesAnUnclosedEngine(t *testing.T) {
	before := finalized.Load()
	for range 4 {
		if _, err := New(Config{}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for finalized.Load()-before < 4 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := finalized.Load() - before; n < 4 {
		t.Errorf("%d of 4 unreachable engines were finalized", n)
	}
	// A closed engine is not finalized again.
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.Close()
	before = finalized.Load()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if finalized.Load() != before {
		t.Error("a closed engine was finalized")
	}
}

// BenchmarkCgoCrossing is the floor under every call: one crossing into C and back (cimd_abi_version does
// nothing else), for comparison with BenchmarkResolveCacheHit.
func BenchmarkCgoCrossing(b *testing.B) {
	for range b.N {
		abiVersion()
	}
}
