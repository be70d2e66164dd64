// Command difftest runs random SQL queries on Quiver (in-process engine)
// and on a private MariaDB server over the same tables and reports every
// query whose results differ. It is a developer tool, not a CI test (the
// CI machine has no MariaDB):
//
//	go run ./integration/difftest -seed 1 -n 2000
//	go run ./integration/difftest -seed 1 -only 137      # one query again
//	go run ./integration/difftest -hostile               # edge inputs
//	go run ./integration/difftest -sql 'SELECT 1/0'      # one statement
//	go run ./integration/difftest -funcs                 # every built-in function, edge arguments
//	go run ./integration/difftest -dml                   # DML/DDL statement scripts
//
// Results compare as multisets unless the query's ORDER BY fixes the order;
// floats within a relative 1e-9, decimals exactly at their scale, errors
// match when both sides fail. MariaDB runs with MySQL 8's default sql_mode
// and utf8mb4_nopad_bin (Quiver compares strings bytewise, without pad).
// Known MariaDB-vs-MySQL differences are listed in known.go and skipped.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	var (
		seed     = flag.Int64("seed", 1, "run seed; query i is generated from (seed, i)")
		n        = flag.Int("n", 1000, "number of queries")
		only     = flag.Int("only", -1, "run only query number i of the seed")
		maxFail  = flag.Int("maxfail", 50, "stop after this many differences")
		hostile  = flag.Bool("hostile", false, "run the edge-input list instead of random queries")
		funcs    = flag.Bool("funcs", false, "run the built-in function calls (funcs.go), comparing result kinds too")
		dml      = flag.Bool("dml", false, "run the DML/DDL statement scripts (dml.go)")
		one      = flag.String("sql", "", "run this one statement on both")
		verbose  = flag.Bool("v", false, "print every query")
		showKnow = flag.Bool("known", false, "also report differences known.go explains")
		mariadbd = flag.String("mariadbd", "/usr/sbin/mariadbd", "mariadbd binary")
		install  = flag.String("install-db", "/usr/bin/mariadb-install-db", "mariadb-install-db binary")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	modeFuncs, modeDML = *funcs, *dml
	if err := run(ctx, *seed, *n, *only, *maxFail, *hostile, *one, *verbose, *showKnow, *mariadbd, *install); err != nil {
		fmt.Fprintln(os.Stderr, "difftest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, seed int64, n, only, maxFail int, hostile bool, one string, verbose, showKnown bool, mariadbd, install string) error {
	m, err := startMariaDB(ctx, mariadbd, install)
	if err != nil {
		return err
	}
	defer m.close()
	q, err := startQuiver(ctx)
	if err != nil {
		return err
	}
	defer q.close()

	// The data depends on the seed too, so different seeds cover different rows.
	r := rand.New(rand.NewSource(seed))
	mstmts := setup(r, " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_nopad_bin")
	r = rand.New(rand.NewSource(seed))
	qstmts := setup(r, "")
	for i := range mstmts {
		if err := m.exec(ctx, mstmts[i]); err != nil {
			return fmt.Errorf("MariaDB: %s: %v", mstmts[i], err)
		}
		if err := q.exec(ctx, qstmts[i]); err != nil {
			return fmt.Errorf("Quiver: %s: %v", qstmts[i], err)
		}
	}

	if modeDML {
		fails, err := runDML(ctx, q, m, verbose)
		fmt.Printf("DML/DDL scripts: %d differences\n", fails)
		return err
	}
	var queries []query
	switch {
	case modeFuncs:
		queries = funcQueries()
	case one != "":
		queries = []query{{sql: one, ordered: topLevelOrderBy(one)}}
	case hostile:
		queries = hostileQueries()
	}
	stats := map[string]int{}
	fails := 0
	total := n
	if queries != nil {
		total = len(queries)
	}
	start := time.Now()
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if only >= 0 && i != only {
			continue
		}
		var qu query
		if queries != nil {
			qu = queries[i]
		} else {
			g := &gen{r: rand.New(rand.NewSource(seed*1_000_003 + int64(i)))}
			qu = g.query()
		}
		if verbose {
			fmt.Printf("-- %d: %s\n", i, qu.sql)
		}
		qctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		qr := q.query(qctx, qu.sql)
		mr := m.query(qctx, qu.sql)
		cancel()
		switch {
		case qr.err != nil && mr.err != nil:
			stats["both failed"]++
		case qr.err == nil && mr.err == nil:
			stats["both ran"]++
		}
		diff := compare(qr, mr, qu.ordered)
		if diff == "" && modeFuncs {
			diff = kindDiff(qr, mr)
		}
		if diff == "" && queries != nil && (qr.err != nil) != (mr.err != nil) {
			diff = "error on one side"
		}
		if diff == "" {
			if one != "" || (hostile && verbose) {
				fmt.Printf("same:\n%s", render(qr))
			}
			continue
		}
		why := known(qu.sql, qr, mr, diff)
		if modeFuncs && why == "" {
			why = funcKnown[qu.sql]
		}
		if why != "" && !showKnown {
			stats["known: "+why]++
			continue
		}
		stats["DIFFERENT"]++
		fails++
		fmt.Printf("=== DIFFERENCE seed=%d query=%d (rerun: -seed %d -only %d)\n%s\n--- %s\n--- Quiver:\n%s--- MariaDB:\n%s\n",
			seed, i, seed, i, qu.sql, diff, render(qr), render(mr))
		if fails >= maxFail {
			break
		}
	}
	fmt.Printf("%d queries in %s:", total, time.Since(start).Round(time.Second))
	for k, v := range stats {
		fmt.Printf(" %s=%d", k, v)
	}
	fmt.Println()
	return nil
}

// topLevelOrderBy reports whether sql ends with an ORDER BY outside any
// parentheses (the order is then checked).
func topLevelOrderBy(sql string) bool {
	i := strings.LastIndex(strings.ToUpper(sql), "ORDER BY")
	if i < 0 {
		return false
	}
	return strings.Count(sql[:i], "(") == strings.Count(sql[:i], ")")
}
