package catalog

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/qerr"
)

// SystemSchema is the schema of node and cluster tables (system.nodes, ...)
// that other packages register with RegisterSystemTable.
const SystemSchema = "system"

// RegisterSystemTable adds a read-only table whose rows are produced on
// every scan by rows (small tables only: all rows are materialized). The
// schema (e.g. SystemSchema) becomes visible in SHOW DATABASES and
// information_schema and shadows a data-dir folder of the same name; it
// refuses DDL as information_schema does. Registering a name twice replaces
// the table.
func (c *Catalog) RegisterSystemTable(schema, name string, cols *arrow.Schema, rows func(ctx context.Context) ([]arrow.RecordBatch, error)) error {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if schema == "" || name == "" || cols == nil || rows == nil {
		return fmt.Errorf("catalog: RegisterSystemTable needs a schema, a name, columns and a row function")
	}
	if schema == InformationSchema {
		return fmt.Errorf("catalog: %s is built in", InformationSchema)
	}
	t := &Table{Schema: schema, Name: name, Kind: SystemTable, Columns: cols,
		Stats: Stats{RowCount: -1, Bytes: -1}, Rows: rows}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.registered == nil {
		c.registered = map[string]map[string]*Table{}
	}
	if c.registered[schema] == nil {
		c.registered[schema] = map[string]*Table{}
	}
	c.registered[schema][name] = t
	return nil
}

// registeredSchema returns the registered tables of schema sorted by name,
// and whether schema is a registered system schema.
func (c *Catalog) registeredSchema(schema string) ([]*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	ts, ok := c.registered[schema]
	if !ok {
		return nil, false
	}
	out := make([]*Table, 0, len(ts))
	for _, t := range ts {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, true
}

// registeredSchemaNamesLocked lists registered system schema names.
func (c *Catalog) registeredSchemaNamesLocked() []string {
	out := make([]string, 0, len(c.registered))
	for s := range c.registered {
		out = append(out, s)
	}
	return out
}

// denyReadOnlySchema refuses DDL and writes in information_schema and the
// registered system schemas.
func (c *Catalog) denyReadOnlySchema(schema string) error {
	if err := denyInformationSchema(schema); err != nil {
		return err
	}
	if _, ok := c.registeredSchema(strings.ToLower(schema)); ok {
		return qerr.New(qerr.PermissionDenied, "Access denied to database '%s'", strings.ToLower(schema))
	}
	return nil
}
