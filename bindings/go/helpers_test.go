package cimd_test

import (
	"testing"

	cimd "github.com/cimd/cimd/bindings/go"
)

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
