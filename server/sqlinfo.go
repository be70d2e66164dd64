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
	const (
		outerJoinsLimited  = int32(1) // LEFT/RIGHT, no FULL OUTER JOIN (MySQL)
		noBits             = int32(0)
		forwardOnly        = int32(1 << 1) // SqlSupportedResultSetType FORWARD_ONLY
		readOnlyResults    = int32(1 << 1) // SqlSupportedResultSetConcurrency READ_ONLY
		transactionNone    = int64(0)      // SqlTransactionIsolationLevel NONE
		noLimit            = int64(0)      // JDBC: 0 = no limit or unknown
		maxIdentifierBytes = int64(64)     // MySQL identifiers are at most 64 characters
	)
	info := map[flightsql.SqlInfo]any{
		// Server
		flightsql.SqlInfoFlightSqlServerName:                        "Quiver",
		flightsql.SqlInfoFlightSqlServerVersion:                     version,
		flightsql.SqlInfoFlightSqlServerArrowVersion:                arrow.PkgVersion,
		flightsql.SqlInfoFlightSqlServerReadOnly:                    false,
		flightsql.SqlInfoFlightSqlServerSql:                         true,
		flightsql.SqlInfoFlightSqlServerSubstrait:                   false,
		flightsql.SqlInfoFlightSqlServerTransaction:                 int32(flightsql.SqlTransactionNone),
		flightsql.SqlInfoFlightSqlServerCancel:                      false,
		flightsql.SqlInfoFlightSqlServerBulkIngestion:               false,
		flightsql.SqlInfoFlightSqlServerIngestTransactionsSupported: false,
		flightsql.SqlInfoFlightSqlServerStatementTimeout:            int32(0),
		flightsql.SqlInfoFlightSqlServerTransactionTimeout:          int32(0),
		// SQL language
		flightsql.SqlInfoDDLCatalog:              false,
		flightsql.SqlInfoDDLSchema:               true,
		flightsql.SqlInfoDDLTable:                true,
		flightsql.SqlInfoIdentifierCase:          int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoIdentifierQuoteChar:     "`",
		flightsql.SqlInfoQuotedIdentifierCase:    int32(flightsql.SqlCaseSensitivityCaseInsensitive),
		flightsql.SqlInfoAllTablesAreASelectable: true,
		// MySQL sorts NULL first ascending, last descending: "low".
		flightsql.SqlInfoNullOrdering:                           int32(flightsql.SqlNullOrderingSortLow),
		flightsql.SqlInfoKeywords:                               sqlKeywords,
		flightsql.SqlInfoNumericFunctions:                       numericFunctions,
		flightsql.SqlInfoStringFunctions:                        stringFunctions,
		flightsql.SqlInfoSystemFunctions:                        systemFunctions,
		flightsql.SqlInfoDateTimeFunctions:                      dateTimeFunctions,
		flightsql.SqlInfoSearchStringEscape:                     `\`,
		flightsql.SqlInfoExtraNameChars:                         "",
		flightsql.SqlInfoSupportsColumnAliasing:                 true,
		flightsql.SqlInfoNullPlusNullIsNull:                     true,
		flightsql.SqlInfoSupportsConvert:                        supportsConvert(),
		flightsql.SqlInfoSupportsTableCorrelationNames:          true,
		flightsql.SqlInfoSupportsDifferentTableCorrelationNames: false,
		flightsql.SqlInfoSupportsExpressionsInOrderBy:           true,
		flightsql.SqlInfoSupportsOrderByUnrelated:               true,
		flightsql.SqlInfoSupportedGroupBy:                       groupByUnrelated,
		flightsql.SqlInfoSupportsLikeEscapeClause:               true,
		flightsql.SqlInfoSupportsNonNullableColumns:             true,
		flightsql.SqlInfoSupportedGrammar:                       grammarCore,
		flightsql.SqlInfoANSI92SupportedLevel:                   ansi92Entry,
		flightsql.SqlInfoSupportsIntegrityEnhancementFacility:   false,
		flightsql.SqlInfoOuterJoinsSupportLevel:                 outerJoinsLimited,
		flightsql.SqlInfoSchemaTerm:                             "database",
		flightsql.SqlInfoProcedureTerm:                          "procedure",
		flightsql.SqlInfoCatalogTerm:                            "catalog",
		flightsql.SqlInfoCatalogAtStart:                         true,
		flightsql.SqlInfoSchemasSupportedActions:                noBits, // schemas in procedure calls, index or privilege definitions: none
		flightsql.SqlInfoCatalogsSupportedActions:               noBits,
		flightsql.SqlInfoSupportedPositionedCommands:            noBits,
		flightsql.SqlInfoSelectForUpdateSupported:               false,
		flightsql.SqlInfoStoredProceduresSupported:              false,
		flightsql.SqlInfoSupportedSubqueries:                    subqueries,
		flightsql.SqlInfoCorrelatedSubqueriesSupported:          true,
		flightsql.SqlInfoSupportedUnions:                        unions,
		// Limits (MySQL's where it has one; 0 = none or unknown)
		flightsql.SqlInfoMaxBinaryLiteralLen:     noLimit,
		flightsql.SqlInfoMaxCharLiteralLen:       noLimit,
		flightsql.SqlInfoMaxColumnNameLen:        maxIdentifierBytes,
		flightsql.SqlInfoMaxColumnsInGroupBy:     noLimit,
		flightsql.SqlInfoMaxColumnsInIndex:       noLimit,
		flightsql.SqlInfoMaxColumnsInOrderBy:     noLimit,
		flightsql.SqlInfoMaxColumnsInSelect:      noLimit,
		flightsql.SqlInfoMaxColumnsInTable:       noLimit,
		flightsql.SqlInfoMaxConnections:          noLimit,
		flightsql.SqlInfoMaxCursorNameLen:        noLimit,
		flightsql.SqlInfoMaxIndexLen:             noLimit,
		flightsql.SqlInfoDBSchemaNameLen:         maxIdentifierBytes,
		flightsql.SqlInfoMaxProcedureNameLen:     maxIdentifierBytes,
		flightsql.SqlInfoMaxCatalogNameLen:       maxIdentifierBytes,
		flightsql.SqlInfoMaxRowSize:              noLimit,
		flightsql.SqlInfoMaxRowSizeIncludesBlobs: true,
		flightsql.SqlInfoMaxStatementLen:         noLimit,
		flightsql.SqlInfoMaxStatements:           noLimit,
		flightsql.SqlInfoMaxTableNameLen:         maxIdentifierBytes,
		flightsql.SqlInfoMaxTablesInSelect:       noLimit,
		flightsql.SqlInfoMaxUsernameLen:          noLimit,
		// Transactions: none (each statement commits on its own).
		flightsql.SqlInfoDefaultTransactionIsolation:           transactionNone,
		flightsql.SqlInfoTransactionsSupported:                 false,
		flightsql.SqlInfoSupportedTransactionsIsolationlevels:  int32(1 << 0), // TRANSACTION_NONE
		flightsql.SqlInfoDataDefinitionCausesTransactionCommit: false,
		flightsql.SqlInfoDataDefinitionsInTransactionsIgnored:  false,
		// Result sets: forward-only, read-only.
		flightsql.SqlInfoSupportedResultSetTypes:                             forwardOnly,
		flightsql.SqlInfoSupportedConcurrenciesForResultSetUnspecified:       noBits,
		flightsql.SqlInfoSupportedConcurrenciesForResultSetForwardOnly:       readOnlyResults,
		flightsql.SqlInfoSupportedConcurrenciesForResultSetScrollSensitive:   noBits,
		flightsql.SqlInfoSupportedConcurrenciesForResultSetScrollInsensitive: noBits,
		flightsql.SqlInfoBatchUpdatesSupported:                               true,
		flightsql.SqlInfoSavePointsSupported:                                 false,
		flightsql.SqlInfoNamedParametersSupported:                            false,
		flightsql.SqlInfoLocatorsUpdateCopy:                                  false,
		flightsql.SqlInfoStoredFunctionsUsingCallSyntaxSupported:             false,
	}
	for id, v := range info {
		if err := s.RegisterSqlInfo(id, v); err != nil {
			return fmt.Errorf("register sql info %d: %w", id, err)
		}
	}
	return nil
}

// supportsConvert lists the CAST conversions between SQL types (JDBC
// supportsConvert): MySQL CAST targets are SIGNED/UNSIGNED (BIGINT), DECIMAL,
// DOUBLE, FLOAT, CHAR, BINARY, DATE, DATETIME and TIME.
func supportsConvert() map[int32][]int32 {
	targets := []int32{
		int32(flightsql.SqlConvertBigInt), int32(flightsql.SqlConvertDecimal),
		int32(flightsql.SqlConvertFloat), int32(flightsql.SqlConvertChar),
		int32(flightsql.SqlConvertVarchar), int32(flightsql.SqlConvertBinary),
		int32(flightsql.SqlConvertDate), int32(flightsql.SqlConvertTimestamp),
		int32(flightsql.SqlConvertTime),
	}
	sources := []flightsql.SqlSupportsConvert{
		flightsql.SqlConvertBigInt, flightsql.SqlConvertInteger, flightsql.SqlConvertSmallInt,
		flightsql.SqlConvertTinyInt, flightsql.SqlConvertBit, flightsql.SqlConvertDecimal,
		flightsql.SqlConvertNumeric, flightsql.SqlConvertFloat, flightsql.SqlConvertReal,
		flightsql.SqlConvertChar, flightsql.SqlConvertVarchar, flightsql.SqlConvertLongVarchar,
		flightsql.SqlConvertBinary, flightsql.SqlConvertVarbinary, flightsql.SqlConvertDate,
		flightsql.SqlConvertTimestamp, flightsql.SqlConvertTime,
	}
	m := make(map[int32][]int32, len(sources))
	for _, src := range sources {
		m[int32(src)] = targets
	}
	return m
}
