package logical

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// subqueryText is the identity of a subquery as written (Subquery.Text):
// its restored SQL with each `?` placeholder named by its position in the
// statement text ("param@31", as the binder keys parameters), so two
// subqueries differing only in which parameter they use never look alike.
func subqueryText(n ast.Node) string {
	text := restoreSQL(n)
	var c markerCollector
	n.Accept(&c)
	if len(c.offsets) == 0 {
		return text
	}
	var sb strings.Builder
	next := 0
	var quote byte
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case quote != 0:
			if ch == '\\' && quote != '`' && i+1 < len(text) {
				sb.WriteByte(ch)
				i++
				ch = text[i]
			} else if ch == quote {
				quote = 0
			}
		case ch == '\'' || ch == '"' || ch == '`':
			quote = ch
		case ch == '?' && next < len(c.offsets):
			sb.WriteString("param@" + strconv.Itoa(c.offsets[next]))
			next++
			continue
		}
		sb.WriteByte(ch)
	}
	return sb.String()
}

// markerCollector lists the placeholders' text offsets in source order.
type markerCollector struct{ offsets []int }

func (c *markerCollector) Enter(n ast.Node) (ast.Node, bool) {
	if p, ok := n.(*test_driver.ParamMarkerExpr); ok {
		c.offsets = append(c.offsets, p.Offset)
	}
	return n, false
}

func (c *markerCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }
