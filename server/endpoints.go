package server

import (
	"fmt"
	"net"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
)

// Endpoints. By default a query's FlightInfo has endpoints without a
// location: clients read them over the connection they already have (the
// Flight SQL JDBC driver, ADBC and arrow-go all do). With
// Config.EndpointAddr set (`quiver serve --advertise-endpoints`) every
// query result endpoint (statements, prepared statements, PollFlightInfo)
// has a location, with the scheme matching the server's transport:
// grpc+tls:// when TLS is on, grpc+tcp:// otherwise. The scheme matters:
// the JDBC driver opens a new client for a location and decides TLS from
// the scheme alone, so a grpc+tcp location of a TLS server would make it
// talk plaintext and fail. Metadata results keep no location.
//
// A query whose final stage has several partitions then gets one endpoint
// per partition, each located at the node meant to serve it, for parallel
// fetch (partition.go); the others keep one lazy endpoint at this node.

// EndpointURI is the location of results served at addr (host:port).
func EndpointURI(addr string, tls bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("endpoint address %q: %w", addr, err)
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		return "", fmt.Errorf("endpoint address %q: clients cannot connect to an unspecified host; give the address they should use (--advertise)", addr)
	}
	scheme := "grpc+tcp"
	if tls {
		scheme = "grpc+tls"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// resultInfo is the FlightInfo of a query result: located at this node
// when endpoints are advertised.
func (s *Server) resultInfo(desc *flight.FlightDescriptor, ticket []byte, schema *arrow.Schema) *flight.FlightInfo {
	info := s.flightInfo(desc, ticket, schema)
	if s.location != "" {
		for _, ep := range info.Endpoint {
			ep.Location = []*flight.Location{{Uri: s.location}}
		}
	}
	return info
}
