package cimd

// This file is the only one that speaks C (link.go and link_asan.go only name the library to link). It declares
// a few small C helpers that bundle several calls of include/cimd.h into one, because each crossing from Go into C
// costs tens of nanoseconds and a cache hit should cost one crossing, not six. The helpers only call functions
// the header declares and hold no rules of their own.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#include <stdlib.h>
#include "cimd.h"

// What one resolve, probe or refresh produced, in one struct returned by value (no Go memory is written by C).
typedef struct {
	cimd_status status;
	cimd_source source;
	uint64_t generation;
	int64_t expires_at_ms;
	// Set only when the caller must decode: result is live, json borrows from it, and Go frees it afterwards.
	cimd_result *result;
	const uint8_t *json;
	size_t json_len;
	// Set on CIMD_STATUS_REJECTED; Go copies the details and frees it.
	cimd_error *error;
} cimdgo_outcome;

// Reads the facts of a fresh result. When the caller already holds the decoded JSON of this generation, the
// result is freed here, so a cache hit costs a single crossing.
static void cimdgo_take_result(cimd_result *result, uint64_t known_generation, cimdgo_outcome *out) {
	out->source = cimd_result_source(result);
	out->generation = cimd_result_generation(result);
	out->expires_at_ms = cimd_result_expires_at_unix_ms(result);
	if (out->generation != 0 && out->generation == known_generation) {
		cimd_result_free(&result);
		return;
	}
	cimd_status s = cimd_result_json(result, &out->json, &out->json_len);
	if (s != CIMD_STATUS_OK) {
		cimd_result_free(&result);
		out->status = s;
		return;
	}
	out->result = result;
}

static cimdgo_outcome cimdgo_resolve(const cimd_engine *engine, const char *client_id, size_t client_id_len,
                                     const char *redirect_uri, size_t redirect_uri_len, uint64_t timeout_ms,
                                     uint64_t known_generation) {
	cimdgo_outcome out = {0};
	cimd_result *result = NULL;
	out.status = cimd_resolve(engine, client_id, client_id_len, redirect_uri, redirect_uri_len, timeout_ms,
	                          &result, &out.error);
	if (out.status == CIMD_STATUS_OK) cimdgo_take_result(result, known_generation, &out);
	return out;
}

static cimdgo_outcome cimdgo_refresh(const cimd_engine *engine, const char *client_id, size_t client_id_len,
                                     uint64_t timeout_ms, uint64_t known_generation) {
	cimdgo_outcome out = {0};
	cimd_result *result = NULL;
	out.status = cimd_refresh(engine, client_id, client_id_len, timeout_ms, &result, &out.error);
	if (out.status == CIMD_STATUS_OK) cimdgo_take_result(result, known_generation, &out);
	return out;
}

static cimdgo_outcome cimdgo_probe(const cimd_engine *engine, const char *client_id, size_t client_id_len,
                                   uint64_t known_generation) {
	cimdgo_outcome out = {0};
	cimd_result *result = NULL;
	out.status = cimd_probe(engine, client_id, client_id_len, &result);
	if (out.status == CIMD_STATUS_OK) cimdgo_take_result(result, known_generation, &out);
	return out;
}

// The details of an error object, borrowed from it (the names are static, the message lives until it is freed).
typedef struct {
	cimd_status status;
	const char *code;
	const char *message;
	size_t message_len;
	const char *oauth_error;
	bool transient;
} cimdgo_error_details;

static cimdgo_error_details cimdgo_error_read(const cimd_error *error) {
	cimdgo_error_details d = {0};
	d.status = cimd_error_status(error);
	d.code = cimd_code_name(cimd_error_code(error));
	if (cimd_error_message(error, &d.message, &d.message_len) != CIMD_STATUS_OK) {
		d.message = NULL;
		d.message_len = 0;
	}
	d.oauth_error = cimd_error_oauth_error(error);
	d.transient = cimd_error_is_transient(error);
	return d;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// The ABI's opaque handles, named for the rest of the package (which does not import "C").
type (
	engineHandle = C.cimd_engine
	errorHandle  = C.cimd_error
)

// abiMajor is the major version of the C ABI this package was written against.
const abiMajor = 1

// The statuses of include/cimd.h that the binding tells apart.
const (
	statusOK              = C.CIMD_STATUS_OK
	statusInvalidArgument = C.CIMD_STATUS_INVALID_ARGUMENT
	statusInvalidUTF8     = C.CIMD_STATUS_INVALID_UTF8
	statusInvalidHandle   = C.CIMD_STATUS_INVALID_HANDLE
	statusConfigError     = C.CIMD_STATUS_CONFIG_ERROR
	statusRejected        = C.CIMD_STATUS_REJECTED
	statusNotFound        = C.CIMD_STATUS_NOT_FOUND
	statusPanic           = C.CIMD_STATUS_PANIC
)

// checkABI refuses a library whose major ABI version differs from the one this package was written against.
func checkABI() error {
	v := uint32(C.cimd_abi_version())
	if v>>16 != abiMajor {
		return fmt.Errorf("cimd: the linked library has C ABI %d.%d.%d; this package needs major version %d",
			v>>16, (v>>8)&0xff, v&0xff, abiMajor)
	}
	return nil
}

// abiVersion reports the linked library's ABI version as major, minor, patch.
func abiVersion() (major, minor, patch uint32) {
	v := uint32(C.cimd_abi_version())
	return v >> 16, (v >> 8) & 0xff, v & 0xff
}

// emptyString gives C a valid pointer for an empty Go string, whose data pointer may be nil: the ABI reads
// NULL as a missing argument, and an empty client_id is a client_id the engine should judge, not a bug.
var emptyString = [1]byte{}

// cString lends a Go string's bytes to C for the duration of one call. The bytes hold no Go pointers, so cgo
// allows it, and the ABI copies whatever it keeps.
func cString(s string) (*C.char, C.size_t) {
	if len(s) == 0 {
		return (*C.char)(unsafe.Pointer(&emptyString[0])), 0
	}
	return (*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))
}

// outcome is what a resolve, probe or refresh returned, copied out of C.
type outcome struct {
	status     uint32
	source     uint32
	generation uint64
	expiresMS  int64
	// result and json are set when Go must decode (the generation was not the known one); release with free.
	result *C.cimd_result
	json   []byte
	err    *C.cimd_error
}

func fromC(o C.cimdgo_outcome) outcome {
	out := outcome{
		status:     uint32(o.status),
		source:     uint32(o.source),
		generation: uint64(o.generation),
		expiresMS:  int64(o.expires_at_ms),
		result:     o.result,
		err:        o.error,
	}
	if o.result != nil {
		out.json = unsafe.Slice((*byte)(unsafe.Pointer(o.json)), int(o.json_len))
	}
	return out
}

// free releases the result handle (and with it the borrowed JSON) if the outcome holds one.
func (o *outcome) free() {
	if o.result != nil {
		// A local copy: cgo must not be handed a pointer into a Go struct that holds other pointers.
		result := o.result
		C.cimd_result_free(&result)
		o.result, o.json = nil, nil
	}
}

func abiResolve(engine *C.cimd_engine, clientID string, redirectURI *string, timeoutMS uint64, known uint64) outcome {
	id, idLen := cString(clientID)
	var ru *C.char
	var ruLen C.size_t
	if redirectURI != nil {
		ru, ruLen = cString(*redirectURI)
	}
	return fromC(C.cimdgo_resolve(engine, id, idLen, ru, ruLen, C.uint64_t(timeoutMS), C.uint64_t(known)))
}

func abiRefresh(engine *C.cimd_engine, clientID string, timeoutMS uint64, known uint64) outcome {
	id, idLen := cString(clientID)
	return fromC(C.cimdgo_refresh(engine, id, idLen, C.uint64_t(timeoutMS), C.uint64_t(known)))
}

func abiProbe(engine *C.cimd_engine, clientID string, known uint64) outcome {
	id, idLen := cString(clientID)
	return fromC(C.cimdgo_probe(engine, id, idLen, C.uint64_t(known)))
}

func abiInvalidate(engine *C.cimd_engine, clientID string) uint32 {
	id, idLen := cString(clientID)
	return uint32(C.cimd_invalidate(engine, id, idLen))
}

// abiEngineNew creates an engine; on failure it returns the status and the error object (if any).
func abiEngineNew(config []byte) (*C.cimd_engine, uint32, *C.cimd_error) {
	var engine *C.cimd_engine
	var cerr *C.cimd_error
	var ptr *C.char
	if len(config) > 0 {
		ptr = (*C.char)(unsafe.Pointer(&config[0]))
	}
	status := C.cimd_engine_new(ptr, C.size_t(len(config)), &engine, &cerr)
	return engine, uint32(status), cerr
}

// abiEngineFree frees the engine in *engine and sets *engine to nil.
func abiEngineFree(engine **C.cimd_engine) {
	// A local copy: cgo must not be handed a pointer into a Go struct that holds other pointers.
	handle := *engine
	C.cimd_engine_free(&handle)
	*engine = handle
}

// jsonCall is one of the ABI's calls that fill a cimd_bytes buffer with JSON.
type jsonCall int

const (
	callStats jsonCall = iota
	callEntries
	callDiscovery
)

// abiJSON runs a JSON-returning call and copies the buffer into Go memory before releasing it.
func abiJSON(engine *C.cimd_engine, call jsonCall) ([]byte, uint32) {
	var buf C.cimd_bytes
	var status C.cimd_status
	switch call {
	case callStats:
		status = C.cimd_stats_json(engine, &buf)
	case callEntries:
		status = C.cimd_entries_json(engine, &buf)
	case callDiscovery:
		status = C.cimd_discovery_json(engine, &buf)
	}
	if status != statusOK {
		return nil, uint32(status)
	}
	out := C.GoBytes(unsafe.Pointer(buf.data), C.int(buf.len))
	C.cimd_bytes_free(&buf)
	return out, statusOK
}

// abiSchemaJSON is cimd_config_schema_json, copied into Go memory.
func abiSchemaJSON() ([]byte, uint32) {
	var buf C.cimd_bytes
	if status := C.cimd_config_schema_json(&buf); status != statusOK {
		return nil, uint32(status)
	}
	out := C.GoBytes(unsafe.Pointer(buf.data), C.int(buf.len))
	C.cimd_bytes_free(&buf)
	return out, statusOK
}

// errorDetails copies an error object into Go values and frees it.
func takeError(cerr *C.cimd_error) (status uint32, code, message, oauthError string, transient bool) {
	d := C.cimdgo_error_read(cerr)
	status = uint32(d.status)
	if d.code != nil {
		code = C.GoString(d.code)
	}
	if d.message != nil {
		message = C.GoStringN(d.message, C.int(d.message_len))
	}
	if d.oauth_error != nil {
		oauthError = C.GoString(d.oauth_error)
	}
	transient = bool(d.transient)
	C.cimd_error_free(&cerr)
	return
}

// statusName is the ABI's name for a status (e.g. "invalid_utf8"), or a number for one it does not know.
func statusName(status uint32) string {
	if name := C.cimd_status_name(C.uint32_t(status)); name != nil {
		return C.GoString(name)
	}
	return fmt.Sprintf("status %d", status)
}

// codeName is the ABI's name for an error code number, or "" for one it does not know.
func codeName(code uint32) string {
	if name := C.cimd_code_name(C.uint32_t(code)); name != nil {
		return C.GoString(name)
	}
	return ""
}

// sourceName is the ABI's name for a source number, or "" for one it does not know.
func sourceName(source uint32) string {
	if name := C.cimd_source_name(C.uint32_t(source)); name != nil {
		return C.GoString(name)
	}
	return ""
}
