package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/go-sql-driver/mysql"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/integration/slt"
	"go.uber.org/zap"
)

// kind is the comparison class of a result column.
type kind int

const (
	kOther kind = iota
	kInt
	kDec
	kFloat
	kStr
	kTime // DATE, DATETIME, TIME
)

// result is a query outcome in text form: rows of cells ("NULL" is never a
// cell value; null cells have ok=false).
type result struct {
	kinds []kind
	rows  [][]cell
	err   error
}

type cell struct {
	s  string
	ok bool // false: NULL
}

// mariaDB is a private mariadbd over a temporary directory.
type mariaDB struct {
	dir  string
	cmd  *exec.Cmd
	db   *sql.DB
	conn *sql.Conn
}

func startMariaDB(ctx context.Context, bin, installBin string) (*mariaDB, error) {
	dir, err := os.MkdirTemp("", "difftest-mariadb-")
	if err != nil {
		return nil, err
	}
	m := &mariaDB{dir: dir}
	data := filepath.Join(dir, "data")
	out, err := exec.CommandContext(ctx, installBin, "--no-defaults", "--datadir="+data, "--user=root", "--auth-root-authentication-method=normal").CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	sock := filepath.Join(dir, "sock")
	m.cmd = exec.Command(bin, "--no-defaults", "--datadir="+data, "--socket="+sock, "--skip-networking",
		"--skip-grant-tables", "--user=root", "--pid-file="+filepath.Join(dir, "pid"),
		"--log-error="+filepath.Join(dir, "err.log"), "--innodb-buffer-pool-size=32M")
	if err := m.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	m.db, err = sql.Open("mysql", "root@unix("+sock+")/?multiStatements=false")
	if err != nil {
		m.close()
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err = m.db.PingContext(ctx); err == nil {
			break
		}
		if time.Now().After(deadline) {
			m.close()
			return nil, fmt.Errorf("mariadbd did not come up: %v (see %s)", err, filepath.Join(dir, "err.log"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if m.conn, err = m.db.Conn(ctx); err != nil {
		m.close()
		return nil, err
	}
	// MySQL 8's defaults where MariaDB's differ.
	for _, s := range []string{
		"SET SESSION sql_mode = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
		"SET SESSION max_statement_time = 30",
		// Literals compare bytewise too (the default is case-insensitive).
		"SET NAMES utf8mb4 COLLATE utf8mb4_nopad_bin",
		"CREATE DATABASE IF NOT EXISTS test",
		"USE test",
	} {
		if _, err := m.conn.ExecContext(ctx, s); err != nil {
			m.close()
			return nil, fmt.Errorf("%s: %v", s, err)
		}
	}
	return m, nil
}

func (m *mariaDB) close() {
	if m.conn != nil {
		m.conn.Close()
	}
	if m.db != nil {
		m.db.Close()
	}
	if m.cmd != nil && m.cmd.Process != nil {
		m.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { m.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			m.cmd.Process.Kill()
			<-done
		}
	}
	os.RemoveAll(m.dir)
}

func (m *mariaDB) exec(ctx context.Context, q string) error {
	_, err := m.conn.ExecContext(ctx, q)
	return err
}

func (m *mariaDB) query(ctx context.Context, q string) result {
	rows, err := m.conn.QueryContext(ctx, q)
	if err != nil {
		return result{err: err}
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return result{err: err}
	}
	var r result
	for _, ct := range cts {
		r.kinds = append(r.kinds, mariaKind(ct.DatabaseTypeName()))
	}
	for rows.Next() {
		raw := make([]sql.RawBytes, len(cts))
		ptrs := make([]any, len(cts))
		for i := range raw {
			ptrs[i] = &raw[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return result{err: err}
		}
		row := make([]cell, len(cts))
		for i, b := range raw {
			if b != nil {
				row[i] = cell{s: string(b), ok: true}
			}
		}
		r.rows = append(r.rows, row)
	}
	if err := rows.Err(); err != nil {
		return result{err: err}
	}
	return r
}

func mariaKind(t string) kind {
	switch t {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR",
		"UNSIGNED TINYINT", "UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED INT", "UNSIGNED BIGINT":
		return kInt
	case "DECIMAL":
		return kDec
	case "FLOAT", "DOUBLE":
		return kFloat
	case "DATE", "DATETIME", "TIMESTAMP", "TIME":
		return kTime
	case "VARCHAR", "CHAR", "TEXT", "BLOB", "MEDIUMTEXT", "LONGTEXT", "TINYTEXT", "MEDIUMBLOB", "LONGBLOB", "TINYBLOB", "VARBINARY", "BINARY":
		return kStr
	}
	return kOther
}

// mariaErrNum is the MariaDB error number of err, 0 when none.
func mariaErrNum(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// quiver is an in-process engine over a temporary data directory.
type quiver struct {
	dir string
	db  *slt.EngineDB
}

func startQuiver(ctx context.Context) (*quiver, error) {
	dir, err := os.MkdirTemp("", "difftest-quiver-")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "test"), 0o755); err != nil {
		return nil, err
	}
	eng, err := engine.New(ctx, engine.Config{DataDir: dir, DefaultSchema: "test"}, zap.NewNop())
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &quiver{dir: dir, db: &slt.EngineDB{Engine: eng, Session: eng.NewSession()}}, nil
}

func (q *quiver) close() {
	q.db.Engine.Close()
	os.RemoveAll(q.dir)
}

func (q *quiver) exec(ctx context.Context, s string) error {
	_, bs, err := q.run(ctx, s)
	for _, b := range bs {
		b.Release()
	}
	return err
}

// run turns a panic into an error so one bad query does not end the run.
func (q *quiver) run(ctx context.Context, s string) (schema *arrow.Schema, bs []arrow.RecordBatch, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("PANIC: %v", p)
		}
	}()
	return q.db.Run(ctx, s)
}

func (q *quiver) query(ctx context.Context, s string) result {
	schema, bs, err := q.run(ctx, s)
	defer func() {
		for _, b := range bs {
			b.Release()
		}
	}()
	if err != nil {
		return result{err: err}
	}
	if schema == nil {
		return result{err: errors.New("no result set")}
	}
	var r result
	for _, f := range schema.Fields() {
		r.kinds = append(r.kinds, arrowKind(f.Type))
	}
	for _, b := range bs {
		for i := 0; i < int(b.NumRows()); i++ {
			row := make([]cell, b.NumCols())
			for c := range row {
				col := b.Column(c)
				if col.DataType().ID() == arrow.NULL || col.IsNull(i) {
					continue
				}
				row[c] = cell{s: quiverText(col, i), ok: true}
			}
			r.rows = append(r.rows, row)
		}
	}
	return r
}

func arrowKind(t arrow.DataType) kind {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.BOOL:
		return kInt
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return kDec
	case arrow.FLOAT32, arrow.FLOAT64:
		return kFloat
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY:
		return kStr
	case arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64:
		return kTime
	case arrow.DICTIONARY:
		return arrowKind(t.(*arrow.DictionaryType).ValueType)
	}
	return kOther
}

// quiverText is the value as MySQL's text protocol would send it.
func quiverText(a arrow.Array, i int) string {
	switch c := a.(type) {
	case *array.Float64:
		return fmt.Sprint(c.Value(i))
	case *array.Float32:
		return fmt.Sprint(c.Value(i))
	case *array.String:
		return c.Value(i)
	case *array.LargeString:
		return c.Value(i)
	case *array.StringView:
		return c.Value(i)
	case *array.Binary:
		return string(c.Value(i))
	case *array.Dictionary:
		return quiverText(c.Dictionary(), c.GetValueIndex(i))
	}
	return slt.FormatValue(a, i)
}
