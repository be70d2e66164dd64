package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The DatabaseMetaData calls DBeaver makes when it connects and when it browses. */
class MetadataTest {
  static Connection conn;
  static DatabaseMetaData md;

  @BeforeAll
  static void connect() throws SQLException {
    conn = QuiverServer.shared().connect();
    md = conn.getMetaData();
  }

  @AfterAll
  static void close() throws SQLException {
    conn.close();
  }

  static List<String> column(ResultSet rs, String name) throws SQLException {
    List<String> out = new ArrayList<>();
    try (rs) {
      while (rs.next()) out.add(rs.getString(name));
    }
    return out;
  }

  @Test
  void identity() throws SQLException {
    assertEquals("Quiver", md.getDatabaseProductName());
    assertFalse(md.getDatabaseProductVersion().isEmpty());
    assertEquals("`", md.getIdentifierQuoteString());
    // The server reports SQL_NULLS_SORTED_LOW (checked by the Go and Python suites);
    // flight-sql-jdbc-driver 18.3 maps that enum value to nullsAreSortedAtEnd().
    assertTrue(md.nullsAreSortedAtEnd(), "driver mapping of SQL_NULL_ORDERING changed: check nullsAreSortedLow");
    assertFalse(md.supportsTransactions());
    assertEquals(Connection.TRANSACTION_NONE, md.getDefaultTransactionIsolation());
    assertTrue(md.supportsUnion());
    assertTrue(md.supportsUnionAll());
    assertTrue(md.supportsCorrelatedSubqueries());
    assertTrue(md.supportsSubqueriesInExists());
    assertTrue(md.supportsANSI92EntryLevelSQL());
    assertTrue(md.supportsColumnAliasing());
    assertEquals("\\\\", "\\" + md.getSearchStringEscape());
    assertEquals("database", md.getSchemaTerm());
  }

  @Test
  void keywordsAndFunctions() throws SQLException {
    assertTrue(List.of(md.getSQLKeywords().split(",\\s*")).contains("DIV"), md.getSQLKeywords());
    assertTrue(List.of(md.getNumericFunctions().split(",\\s*")).contains("ABS"), md.getNumericFunctions());
    assertTrue(List.of(md.getStringFunctions().split(",\\s*")).contains("CONCAT"), md.getStringFunctions());
    assertTrue(List.of(md.getSystemFunctions().split(",\\s*")).contains("IFNULL"), md.getSystemFunctions());
    assertTrue(List.of(md.getTimeDateFunctions().split(",\\s*")).contains("NOW"), md.getTimeDateFunctions());
  }

  /**
   * DBeaver and other tools call many no-argument DatabaseMetaData methods on connect; each is
   * answered from GetSqlInfo and none may fail.
   */
  @Test
  void everyNoArgumentPropertyAnswers() throws Exception {
    Map<String, String> failures = new TreeMap<>();
    int called = 0;
    for (Method m : DatabaseMetaData.class.getMethods()) {
      if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers())) continue;
      Class<?> r = m.getReturnType();
      if (r != boolean.class && r != int.class && r != String.class && r != long.class) continue;
      called++;
      try {
        m.invoke(md);
      } catch (java.lang.reflect.InvocationTargetException e) {
        failures.put(m.getName(), String.valueOf(e.getCause()));
      }
    }
    assertTrue(called > 100, "called " + called);
    if (!failures.isEmpty()) fail("DatabaseMetaData calls failed: " + failures);
  }

  @Test
  void catalogsSchemasTables() throws SQLException {
    assertEquals(List.of("def"), column(md.getCatalogs(), "TABLE_CAT"));
    List<String> schemas = column(md.getSchemas(), "TABLE_SCHEM");
    assertTrue(schemas.containsAll(List.of("clients", "information_schema", "test", "tpch")), schemas.toString());
    assertEquals(List.of("tpch"), column(md.getSchemas(null, "tp%"), "TABLE_SCHEM"));
    assertEquals(List.of("BASE TABLE", "SYSTEM VIEW", "VIEW"), column(md.getTableTypes(), "TABLE_TYPE"));
    assertEquals(List.of("customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"),
        column(md.getTables(null, "tpch", "%", null), "TABLE_NAME"));
    assertEquals(List.of("nation"), column(md.getTables("def", "tpch", "nat%", new String[] {"BASE TABLE"}), "TABLE_NAME"));
    assertEquals(List.of(), column(md.getTables(null, "tpch", "%", new String[] {"VIEW"}), "TABLE_NAME"));
  }

  @Test
  void columns() throws SQLException {
    record Col(String name, int type, String typeName, int size, int digits, int nullable, int pos) {}
    List<Col> got = new ArrayList<>();
    try (ResultSet rs = md.getColumns(null, "clients", "alltypes", "%")) {
      while (rs.next()) {
        assertEquals("clients", rs.getString("TABLE_SCHEM"));
        assertEquals("alltypes", rs.getString("TABLE_NAME"));
        got.add(new Col(rs.getString("COLUMN_NAME"), rs.getInt("DATA_TYPE"), rs.getString("TYPE_NAME"),
            rs.getInt("COLUMN_SIZE"), rs.getInt("DECIMAL_DIGITS"), rs.getInt("NULLABLE"), rs.getInt("ORDINAL_POSITION")));
      }
    }
    assertEquals(15, got.size(), got.toString());
    assertEquals(new Col("id", Types.INTEGER, "INT", got.get(0).size(), 0, DatabaseMetaData.columnNoNulls, 1), got.get(0));
    Col dec = got.get(8);
    assertEquals("dec", dec.name());
    assertEquals(Types.DECIMAL, dec.type());
    assertEquals("DECIMAL", dec.typeName());
    assertEquals(12, dec.size());
    assertEquals(3, dec.digits());
    assertEquals(DatabaseMetaData.columnNullable, dec.nullable());
    assertEquals(Types.TIMESTAMP, got.get(14).type());
    assertEquals("DATETIME", got.get(14).typeName());
    assertEquals(Types.DATE, got.get(13).type());
    assertEquals(Types.VARBINARY, got.get(12).type());
    assertEquals(Types.VARCHAR, got.get(10).type());
    assertEquals("VARCHAR", got.get(10).typeName());
    // A BOOLEAN column is described as what a SELECT returns for it: BIGINT 1/0.
    assertEquals("b", got.get(11).name());
    assertEquals(Types.BIGINT, got.get(11).type());
    assertEquals("BIGINT", got.get(11).typeName());
    // column name pattern
    assertEquals(List.of("n_name"), column(md.getColumns(null, "tpch", "nation", "n_nam_"), "COLUMN_NAME"));
  }

  @Test
  void keysAreEmptyButWellFormed() throws SQLException {
    try (ResultSet rs = md.getPrimaryKeys(null, "tpch", "nation")) {
      assertFalse(rs.next());
    }
    try (ResultSet rs = md.getImportedKeys(null, "tpch", "nation")) {
      assertFalse(rs.next());
    }
    try (ResultSet rs = md.getExportedKeys(null, "tpch", "region")) {
      assertFalse(rs.next());
    }
    try (ResultSet rs = md.getCrossReference(null, "tpch", "region", null, "tpch", "nation")) {
      assertFalse(rs.next());
    }
  }

  @Test
  void typeInfo() throws SQLException {
    // The driver answers getTypeInfo by itself (it does not call GetXdbcTypeInfo, which
    // the Go suite checks); it must not fail.
    column(md.getTypeInfo(), "TYPE_NAME");
  }
}
