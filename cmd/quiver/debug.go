package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"

	"go.uber.org/zap"
)

// debugAddrEnv names a loopback address where `quiver serve` answers
// /debug/quiver (goroutines and Go heap after a GC, JSON) and /debug/pprof/
// (goroutine, heap, CPU profile, ...). It is for tests and debugging (the
// hostile-client campaign checks that nothing leaks after each scenario) and
// is off unless set; a non-loopback address is refused, since it needs no
// credentials.
const debugAddrEnv = "QUIVER_DEBUG_ADDR"

// startDebug serves the debug endpoint when QUIVER_DEBUG_ADDR is set.
func startDebug(log *zap.Logger) error {
	addr := os.Getenv(debugAddrEnv)
	if addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s=%q: must be a loopback IP address with a port", debugAddrEnv, addr)
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", debugAddrEnv, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/quiver", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC() // what is still referenced, not garbage waiting for a cycle
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]uint64{
			"goroutines": uint64(runtime.NumGoroutine()),
			"heap_alloc": ms.HeapAlloc,
			"heap_sys":   ms.HeapSys,
		})
	})
	// net/http/pprof: Index also serves the named profiles (goroutine,
	// heap, allocs, ...) below it.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Warn("debug endpoint serving ("+debugAddrEnv+")", zap.String("addr", lis.Addr().String()))
	go http.Serve(lis, mux)
	return nil
}
