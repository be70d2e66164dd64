package server

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
)

// sqlKeywords are MySQL reserved words beyond SQL:2003 that clients (DBeaver)
// use for highlighting and quoting.
var sqlKeywords = []string{
	"ACCESSIBLE", "ANALYZE", "DATABASE", "DATABASES", "DIV", "DUAL", "EXPLAIN", "FIELDS",
	"FORCE", "IF", "IGNORE", "INDEX", "KEY", "KEYS", "KILL", "LIMIT", "LINES", "OUTFILE",
	"REGEXP", "RENAME", "REPLACE", "RLIKE", "SCHEMA", "SCHEMAS", "SHOW", "STRAIGHT_JOIN",
	"TERMINATED", "UNSIGNED", "USE", "XOR", "ZEROFILL",
}

var (
	numericFunctions = []string{"ABS", "CEIL", "CEILING", "EXP", "FLOOR", "LN", "LOG", "LOG10",
		"LOG2", "MOD", "PI", "POW", "POWER", "ROUND", "SIGN", "SQRT", "TRUNCATE"}
	stringFunctions = []string{"CHAR_LENGTH", "CONCAT", "CONCAT_WS", "LEFT", "LENGTH", "LIKE",
		"LOCATE", "LOWER", "LPAD", "LTRIM", "REPEAT", "REPLACE", "REVERSE", "RIGHT", "RPAD",
		"RTRIM", "SUBSTR", "SUBSTRING", "TRIM", "UPPER"}
	dateTimeFunctions = []string{"CURDATE", "CURRENT_DATE", "CURRENT_TIMESTAMP", "DATE",
		"DATE_ADD", "DATE_FORMAT", "DATE_SUB", "DATEDIFF", "DAY", "EXTRACT", "MONTH", "NOW", "YEAR"}
	systemFunctions = []string{"COALESCE", "DATABASE", "IFNULL", "NULLIF", "VERSION"}
)

// registerSqlInfo fills the answers to GetSqlInfo. JDBC reads them once on
// connect; a missing value can break a driver, so keep the set complete for
// what drivers query (server identity, quoting, case, null ordering).
func (s *Server) registerSqlInfo(version string) error {
	if version == "" {
		version = "dev"
	}
	const (
		grammarCore      = int32(1<<0 | 1<<1) // minimum + core
		ansi92Entry      = int32(1 << 0)
		groupByUnrelated = int32(1 << 1)
		subqueries       = int32(1<<0 | 1<<1 | 1<<2 | 1<<3) // comparisons, EXISTS, IN, quantified
		unions           = int32(1<<0 | 1<<1)               // UNION, UNION ALL
	)
	info := map[flightsql.SqlInfo]any{
		flightsql.SqlInfoFlightSqlServerName:         "Quiver",
		flightsql.SqlInfoFlightSqlServerVersion:      version,
		flightsql.SqlInfoFlightSqlServerArrowVersion: arrow.PkgVersion,
		flightsql.SqlInfoFlightSqlServerReadOnly:     false,
		flightsql.SqlInfoFlightSqlServerSql:          true,
		flightsql.SqlInfoFlightSqlServerSubstrait:    false,
		flightsql.SqlInfoFlightSqlServerTransaction:  int32(flightsql.SqlTransactionNone),
		flightsql.SqlInfoFlightSqlServerCancel:       false,
		flightsql.SqlInfoDDLCatalog:                  false,
		flightsql.SqlInfoDDLSchema:                   true,
		flightsql.SqlInfoDDLTable:                    true,
		flightsql.SqlInfoIdentifierCase:              int64(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoIdentifierQuoteChar:         "`",
		flightsql.SqlInfoQuotedIdentifierCase:        int64(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoAllTablesAreASelectable:     true,
		// MySQL sorts NULL first ascending, last descending: "low".
		flightsql.SqlInfoNullOrdering:                  int64(flightsql.SqlNullOrderingSortLow),
		flightsql.SqlInfoKeywords:                      sqlKeywords,
		flightsql.SqlInfoNumericFunctions:              numericFunctions,
		flightsql.SqlInfoStringFunctions:               stringFunctions,
		flightsql.SqlInfoSystemFunctions:               systemFunctions,
		flightsql.SqlInfoDateTimeFunctions:             dateTimeFunctions,
		flightsql.SqlInfoSearchStringEscape:            `\`,
		flightsql.SqlInfoExtraNameChars:                "",
		flightsql.SqlInfoSupportsColumnAliasing:        true,
		flightsql.SqlInfoNullPlusNullIsNull:            true,
		flightsql.SqlInfoSupportsTableCorrelationNames: true,
		flightsql.SqlInfoSupportsExpressionsInOrderBy:  true,
		flightsql.SqlInfoSupportsOrderByUnrelated:      true,
		flightsql.SqlInfoSupportedGroupBy:              groupByUnrelated,
		flightsql.SqlInfoSupportsLikeEscapeClause:      true,
		flightsql.SqlInfoSupportsNonNullableColumns:    true,
		flightsql.SqlInfoSupportedGrammar:              grammarCore,
		flightsql.SqlInfoANSI92SupportedLevel:          ansi92Entry,
		flightsql.SqlInfoSchemaTerm:                    "database",
		flightsql.SqlInfoCatalogTerm:                   "catalog",
		flightsql.SqlInfoCatalogAtStart:                true,
		flightsql.SqlInfoSupportedSubqueries:           subqueries,
		flightsql.SqlInfoCorrelatedSubqueriesSupported: true,
		flightsql.SqlInfoSupportedUnions:               unions,
		flightsql.SqlInfoTransactionsSupported:         false,
	}
	for id, v := range info {
		if err := s.RegisterSqlInfo(id, v); err != nil {
			return fmt.Errorf("register sql info %d: %w", id, err)
		}
	}
	return nil
}
