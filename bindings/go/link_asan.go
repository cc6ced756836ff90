//go:build asan

package cimd

// Under `go test -asan` (which sets the asan build tag): the engine library built with AddressSanitizer by
// `make asan-lib`, so that the sanitizer sees the Rust side's memory too (`make go-asan`, docs/security.md).

// #cgo LDFLAGS: ${SRCDIR}/../../target/asan/x86_64-unknown-linux-gnu/release/libcimd.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
import "C"
