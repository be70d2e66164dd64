package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/chzyer/readline"
	"github.com/quiverdb/quiver/server"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// maxRecvBytes lifts the client's receive limit above gRPC's 4 MiB default.
const maxRecvBytes = 64 << 20

func runSQL(args []string) error {
	fs := flag.NewFlagSet("quiver sql", flag.ContinueOnError)
	addr := fs.String("addr", server.DefaultListen, "Flight SQL address of a Quiver node")
	command := fs.String("c", "", "run these SQL statements (separated by ';') and exit")
	file := fs.String("f", "", "run the SQL statements in this file and exit")
	format := fs.String("format", "table", "output format: table, csv or json")
	user := fs.String("user", "", "user name (the server runs with --users)")
	password := fs.String("password", "", "password (default: $QUIVER_PASSWORD, or asked for on a terminal)")
	useTLS := fs.Bool("tls", false, "connect with TLS")
	tlsCA := fs.String("tls-ca", "", "CA certificates (PEM) to verify the server with (default: the system's)")
	tlsCert := fs.String("tls-cert", "", "client certificate (PEM) for servers requiring one (--tls-client-ca)")
	tlsKey := fs.String("tls-key", "", "client certificate key (PEM)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := applyEnv(fs); err != nil {
		return err
	}
	out, err := newPrinter(*format, os.Stdout)
	if err != nil {
		return err
	}
	creds := insecure.NewCredentials()
	if *useTLS || *tlsCA != "" || *tlsCert != "" {
		cfg, err := clientTLS(*tlsCA, *tlsCert, *tlsKey)
		if err != nil {
			return err
		}
		creds = credentials.NewTLS(cfg)
	}
	cl, err := flightsql.NewClient(*addr, nil, nil,
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvBytes)))
	if err != nil {
		return fmt.Errorf("connect %s: %w", *addr, err)
	}
	defer cl.Close()
	c := &sqlClient{cl: cl, out: out, session: newSessionID(), base: context.Background()}
	if *user != "" {
		pw := *password
		if pw == "" && stdinIsTerminal() {
			b, err := readline.Password("Password: ")
			if err != nil {
				return err
			}
			pw = string(b)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		authed, err := cl.Client.AuthenticateBasicToken(ctx, *user, pw)
		if err != nil {
			return fmt.Errorf("log in to %s as %s: %w", *addr, *user, clientErr(err))
		}
		md, _ := metadata.FromOutgoingContext(authed)
		c.base = metadata.NewOutgoingContext(context.Background(), md)
	}

	switch {
	case *command != "":
		return c.runScript(*command)
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			return err
		}
		return c.runScript(string(b))
	}
	if stdinIsTerminal() {
		return c.interactiveTTY()
	}
	return c.interactive(os.Stdin)
}

type sqlClient struct {
	cl      *flightsql.Client
	out     printer
	session string
	base    context.Context // carries the bearer token after login
	timing  bool
}

// clientTLS builds the client's TLS configuration.
func clientTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificates", caFile)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ctx carries the session header, so USE and variables persist across statements.
func (c *sqlClient) ctx(parent context.Context) context.Context {
	if md, ok := metadata.FromOutgoingContext(c.base); ok {
		parent = metadata.NewOutgoingContext(parent, md)
	}
	return metadata.AppendToOutgoingContext(parent, server.SessionHeader, c.session)
}

// runScript runs every statement and stops at the first error.
func (c *sqlClient) runScript(script string) error {
	for _, stmt := range splitStatements(script) {
		if err := c.run(stmt); err != nil {
			return err
		}
	}
	return nil
}

// interactive reads statements terminated by ';' from r until EOF; errors
// are printed and the loop goes on.
func (c *sqlClient) interactive(r io.Reader) error {
	tty := false
	if fi, err := os.Stdin.Stat(); err == nil && r == os.Stdin {
		tty = fi.Mode()&os.ModeCharDevice != 0
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var buf strings.Builder
	prompt := func() {
		if !tty {
			return
		}
		if buf.Len() == 0 {
			fmt.Print("quiver> ")
		} else {
			fmt.Print("     -> ")
		}
	}
	prompt()
	for sc.Scan() {
		if buf.Len() == 0 && strings.HasPrefix(strings.TrimSpace(sc.Text()), `\`) {
			if c.meta(sc.Text()) {
				return nil
			}
			prompt()
			continue
		}
		buf.WriteString(sc.Text())
		buf.WriteByte('\n')
		stmts, rest := splitComplete(buf.String())
		for _, s := range stmts {
			if err := c.run(s); err != nil {
				fmt.Fprintln(os.Stderr, "ERROR:", err)
			}
		}
		buf.Reset()
		buf.WriteString(rest)
		prompt()
	}
	if s := strings.TrimSpace(buf.String()); s != "" {
		if err := c.run(s); err != nil {
			fmt.Fprintln(os.Stderr, "ERROR:", err)
		}
	}
	return sc.Err()
}

// run executes one statement: a query's rows are printed, DDL/DML prints
// the affected row count. Ctrl-C cancels the running statement.
func (c *sqlClient) run(stmt string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx = c.ctx(ctx)
	start := time.Now()
	prog := startProgress(start)
	defer prog.end()
	if c.timing {
		defer func() { fmt.Fprintf(os.Stderr, "Time: %.3f ms\n", float64(time.Since(start).Microseconds())/1000) }()
	}
	prep, err := c.cl.Prepare(ctx, stmt)
	if err != nil {
		return clientErr(err)
	}
	defer prep.Close(context.WithoutCancel(ctx))
	if ds := prep.DatasetSchema(); ds == nil || ds.NumFields() == 0 {
		n, err := prep.ExecuteUpdate(ctx)
		if err != nil {
			return clientErr(err)
		}
		prog.end()
		return c.out.update(n, time.Since(start))
	}
	info, err := prep.Execute(ctx)
	if err != nil {
		return clientErr(err)
	}
	var rows int64
	var schema *arrow.Schema
	for _, ep := range info.Endpoint {
		rdr, err := c.cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			return clientErr(err)
		}
		if schema == nil {
			schema = rdr.Schema()
			if err := c.out.begin(schema); err != nil {
				rdr.Release()
				return err
			}
		}
		for rdr.Next() {
			b := rdr.RecordBatch()
			rows += b.NumRows()
			prog.rows.Store(rows)
			if err := c.out.batch(b); err != nil {
				rdr.Release()
				return err
			}
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return clientErr(err)
		}
	}
	if schema == nil {
		schema = prep.DatasetSchema()
		if err := c.out.begin(schema); err != nil {
			return err
		}
	}
	prog.end()
	return c.out.end(rows, time.Since(start))
}

// clientErr shows the server's message without gRPC decoration.
func clientErr(err error) error {
	if st, ok := status.FromError(err); ok {
		return fmt.Errorf("%s (%s)", st.Message(), st.Code())
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("canceled")
	}
	return err
}

// splitStatements splits a script at top-level ';' (outside quotes and
// comments), dropping empty statements.
func splitStatements(script string) []string {
	stmts, rest := splitComplete(script)
	if strings.TrimSpace(rest) != "" && !onlyComments(rest) {
		stmts = append(stmts, strings.TrimSpace(rest))
	}
	return stmts
}

// splitComplete returns the ';'-terminated statements of s and the
// unterminated remainder.
func splitComplete(s string) (stmts []string, rest string) {
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"' || c == '`':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' && c != '`' {
					i++
				}
			}
		case c == '-' && strings.HasPrefix(s[i:], "-- "), c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && strings.HasPrefix(s[i:], "/*"):
			if end := strings.Index(s[i+2:], "*/"); end >= 0 {
				i += end + 3
			} else {
				i = len(s)
			}
		case c == ';':
			if st := strings.TrimSpace(s[start:i]); st != "" && !onlyComments(st) {
				stmts = append(stmts, st)
			}
			start = i + 1
		}
	}
	if start > len(s) {
		start = len(s)
	}
	return stmts, s[start:]
}

// onlyComments reports whether s holds nothing but comments and space.
func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t != "" && !strings.HasPrefix(t, "--") && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}
