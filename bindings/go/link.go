//go:build !asan

package cimd

// The static engine library that `make go-lib` builds (target/release/libcimd.a), and what it needs from the C
// library. `go test -asan` links the AddressSanitizer build instead (link_asan.go).

// #cgo LDFLAGS: ${SRCDIR}/../../target/release/libcimd.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
import "C"
