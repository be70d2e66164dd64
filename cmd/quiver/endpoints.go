package main

import (
	"net"
)

// endpointAddr is the host:port put as the location of result endpoints
// with --advertise-endpoints: --advertise (a host, or host:port of the
// Flight SQL listener) when given, else the address the listener is bound
// to (a wildcard bind without --advertise is refused by server.New).
func endpointAddr(advertise, listenAddr string) string {
	if advertise == "" {
		return listenAddr
	}
	if _, _, err := net.SplitHostPort(advertise); err == nil {
		return advertise
	}
	_, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return advertise
	}
	return net.JoinHostPort(advertise, port)
}
