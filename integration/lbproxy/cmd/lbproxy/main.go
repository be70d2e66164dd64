// Command lbproxy runs the test load balancer (package lbproxy) for the
// Python and Java client suites:
//
//	lbproxy -listen 127.0.0.1:PORT -backends host:port,host:port[,...] -log calls.jsonl
//
// Each forwarded call is appended to the log file as one JSON line
// (lbproxy.Call), written before the call goes on. It runs until killed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/quiverdb/quiver/integration/lbproxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	backends := flag.String("backends", "", "comma-separated backend addresses (plaintext gRPC)")
	logPath := flag.String("log", "", "file to append one JSON line per call to")
	flag.Parse()
	var (
		mu  sync.Mutex
		enc *json.Encoder
	)
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lbproxy:", err)
			os.Exit(2)
		}
		defer f.Close()
		enc = json.NewEncoder(f)
	}
	p, err := lbproxy.New(*listen, strings.Split(*backends, ","), func(c lbproxy.Call) {
		if enc == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		enc.Encode(c) //nolint:errcheck // a lost log line fails the test that reads it
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lbproxy:", err)
		os.Exit(2)
	}
	fmt.Printf("lbproxy listening on %s\n", p.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	p.Close()
}
