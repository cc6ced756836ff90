package cimd_test

import (
	"context"
	"sync"
	"testing"
	"time"

	cimd "github.com/cimd/cimd/bindings/go"
	"github.com/cimd/cimd/bindings/go/internal/testorigin"
)

// TestConcurrentColdResolveFetchesOnce: 200 goroutines resolve one client_id that is not cached yet; the
// origin sees exactly one request, and every goroutine gets the same document version.
func TestConcurrentColdResolveFetchesOnce(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	id := o.ClientID("/cold.json")
	body := testorigin.Document(id, nil)
	// The delay is long enough for every goroutine to be waiting on this fetch.
	o.Route("/cold.json", testorigin.Reply{Delay: 200 * time.Millisecond,
		Headers: [][2]string{{"Content-Type", "application/json"}}, Body: body})
	e := newEngine(t, testorigin.Config(ca))

	const goroutines = 200
	var wg sync.WaitGroup
	start := make(chan struct{})
	clients := make([]*cimd.Client, goroutines)
	errs := make([]error, goroutines)
	for i := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			clients[i], errs[i] = e.Resolve(context.Background(), id, cimd.WithRedirectURI("https://app.example/callback"))
		}()
	}
	close(start)
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
		if clients[i].Generation != clients[0].Generation || clients[i].ClientID != id {
			t.Fatalf("goroutine %d got generation %d, goroutine 0 got %d", i, clients[i].Generation, clients[0].Generation)
		}
	}
	if n := o.Hits("/cold.json"); n != 1 {
		t.Errorf("the origin saw %d requests, want exactly 1", n)
	}
	stats, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Fetches != 1 || stats.CoalescedWaits == 0 {
		t.Errorf("Stats = %+v: want 1 fetch and coalesced waits", stats)
	}
	if stats.FetchResults.Document != 1 || stats.FetchDurationMs.Count != 1 || stats.Resolutions.Network == 0 {
		t.Errorf("Stats = %+v: want 1 document fetched, observed once, and network resolutions", stats)
	}
}

// TestConcurrentUseWithClose runs resolves, probes, invalidations and counters from many goroutines while the
// engine is closed under them (run with -race): no call may crash, and calls after Close get ErrClosed.
func TestConcurrentUseWithClose(t *testing.T) {
	ca := testorigin.NewCA(t)
	o := testorigin.New(t, ca)
	ids := make([]string, 4)
	for i := range ids {
		path := "/c" + string(rune('0'+i)) + ".json"
		o.ServeDocument(path, nil)
		ids[i] = o.ClientID(path)
	}
	e := newEngine(t, testorigin.Config(ca))

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := ids[(g+n)%len(ids)]
				var err error
				switch n % 8 {
				case 0:
					err = e.Invalidate(id)
				case 1:
					_, err = e.Probe(id)
				case 2:
					_, err = e.Stats()
				default:
					_, err = e.Resolve(context.Background(), id)
				}
				if err != nil && err != cimd.ErrNotCached && err != cimd.ErrClosed {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()

	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := e.Resolve(context.Background(), ids[0]); err != cimd.ErrClosed {
		t.Errorf("Resolve after Close = %v, want ErrClosed", err)
	}
	if _, err := e.Probe(ids[0]); err != cimd.ErrClosed {
		t.Errorf("Probe after Close = %v, want ErrClosed", err)
	}
	if err := e.Invalidate(ids[0]); err != cimd.ErrClosed {
		t.Errorf("Invalidate after Close = %v, want ErrClosed", err)
	}
	if _, err := e.DiscoveryMetadata(); err != cimd.ErrClosed {
		t.Errorf("DiscoveryMetadata after Close = %v, want ErrClosed", err)
	}
}

// TestZeroEngineIsClosed: an Engine not made by New behaves as a closed one instead of crashing.
func TestZeroEngineIsClosed(t *testing.T) {
	var e cimd.Engine
	if _, err := e.Resolve(context.Background(), "https://c.example/a.json"); err != cimd.ErrClosed {
		t.Errorf("Resolve = %v, want ErrClosed", err)
	}
	if _, err := e.Refresh(context.Background(), "https://c.example/a.json"); err != cimd.ErrClosed {
		t.Errorf("Refresh = %v, want ErrClosed", err)
	}
	if _, err := e.Stats(); err != cimd.ErrClosed {
		t.Errorf("Stats = %v, want ErrClosed", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}
