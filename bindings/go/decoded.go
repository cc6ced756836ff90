package cimd

import (
	"sync"
	"sync/atomic"
)

// decodedClients keeps, per client_id, the Client last decoded from the engine's result JSON. The engine hands
// out the same JSON for as long as a document's generation stays the same, so a cache hit needs no decoding:
// Resolve passes the generation it knows into the C call and gets back "still that one" without any bytes.
//
// The map is bounded by the engine's own entry bound. When it is full it is emptied, which costs one decode per
// client on its next resolve, nothing more: correctness never depends on what this map holds.
type decodedClients struct {
	clients sync.Map // client_id -> *Client
	size    atomic.Int64
	bound   int64
}

func newDecodedClients(bound int) *decodedClients {
	return &decodedClients{bound: int64(bound)}
}

// get returns the decoded Client of a client_id, or nil.
func (d *decodedClients) get(clientID string) *Client {
	if c, ok := d.clients.Load(clientID); ok {
		return c.(*Client)
	}
	return nil
}

// put publishes c as the current decoded Client of its client_id. c must not be modified afterwards.
func (d *decodedClients) put(clientID string, c *Client) {
	if _, replaced := d.clients.Swap(clientID, c); replaced {
		return
	}
	if d.size.Add(1) > d.bound {
		d.clear()
	}
}

func (d *decodedClients) forget(clientID string) {
	if _, removed := d.clients.LoadAndDelete(clientID); removed {
		d.size.Add(-1)
	}
}

func (d *decodedClients) clear() {
	d.clients.Clear()
	d.size.Store(0)
}

// generation is the generation of a decoded Client, or 0 (no generation) for none.
func (c *Client) generation() uint64 {
	if c == nil {
		return 0
	}
	return c.Generation
}
