package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Statement, PreparedStatement, ResultSet getters, updates and cancel through JDBC. */
class StatementTest {
  static Connection conn;

  @BeforeAll
  static void connect() throws SQLException {
    conn = QuiverServer.shared().connect();
  }

  @AfterAll
  static void close() throws SQLException {
    conn.close();
  }

  static List<List<Object>> rows(ResultSet rs) throws SQLException {
    List<List<Object>> out = new ArrayList<>();
    int n = rs.getMetaData().getColumnCount();
    while (rs.next()) {
      List<Object> row = new ArrayList<>();
      for (int i = 1; i <= n; i++) row.add(rs.getObject(i));
      out.add(row);
    }
    return out;
  }

  @Test
  void statementQuery() throws SQLException {
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT n_nationkey, n_name FROM nation WHERE n_regionkey = 1 ORDER BY n_nationkey")) {
      assertEquals("n_nationkey", rs.getMetaData().getColumnLabel(1));
      assertEquals(Types.BIGINT, rs.getMetaData().getColumnType(1));
      assertTrue(rs.next());
      assertEquals(1L, rs.getLong(1));
      assertEquals("ARGENTINA", rs.getString("n_name"));
      int n = 1;
      while (rs.next()) n++;
      assertEquals(5, n);
    }
  }

  @Test
  void execute_tellsQueriesFromUpdates() throws SQLException {
    try (Statement s = conn.createStatement()) {
      assertTrue(s.execute("SELECT 1"));
      try (ResultSet rs = s.getResultSet()) {
        assertTrue(rs.next());
      }
      assertFalse(s.execute("CREATE TABLE test.j_exec (a INT)"));
      assertFalse(s.execute("DROP TABLE test.j_exec"));
    }
  }

  @Test
  void resultSetGetters() throws SQLException {
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM clients.alltypes ORDER BY id")) {
      assertTrue(rs.next());
      assertEquals(1, rs.getInt("id"));
      assertEquals((byte) 1, rs.getByte("i8"));
      assertEquals((short) 300, rs.getShort("i16"));
      assertEquals(70000, rs.getInt("i32"));
      assertEquals(5000000000L, rs.getLong("i64"));
      // flight-sql-jdbc-driver 18.3 reads UInt32 as a signed int (docs/clients.md).
      assertEquals((int) 4000000000L, rs.getInt("u32"), "driver now reads UInt32 correctly: update IdentityTest and docs");
      assertEquals(1.5f, rs.getFloat("f32"));
      assertEquals(0.1, rs.getDouble("f64"));
      assertEquals(new BigDecimal("12345.678"), rs.getBigDecimal("dec"));
      assertEquals(new BigDecimal("1234567890123456789.0123456789"), rs.getBigDecimal("big"));
      assertEquals("plain", rs.getString("s"));
      assertTrue(rs.getBoolean("b"));
      assertArrayEquals(new byte[] {0, (byte) 0xff}, rs.getBytes("bin"));
      assertEquals(LocalDate.of(2024, 2, 29), rs.getObject("d", LocalDate.class));
      assertEquals(Date.valueOf("2024-02-29"), rs.getDate("d"));
      assertEquals(LocalDateTime.of(2024, 2, 29, 12, 34, 56, 789012000), rs.getObject("ts", LocalDateTime.class));
      assertEquals(Timestamp.valueOf("2024-02-29 12:34:56.789012"), rs.getTimestamp("ts"));
      // row 5: all NULL
      while (rs.getInt("id") != 5) assertTrue(rs.next());
      for (String col : List.of("i8", "i16", "i32", "i64", "u32", "f32", "f64", "dec", "big", "s", "b", "bin", "d", "ts")) {
        assertNull(rs.getObject(col), col);
        assertTrue(rs.wasNull(), col);
      }
      assertEquals(0, rs.getInt("i32"));
      assertTrue(rs.wasNull());
      assertNull(rs.getBigDecimal("dec"));
      assertNull(rs.getBytes("bin"));
      assertNull(rs.getTimestamp("ts"));
      assertNull(rs.getDate("d"));
      assertFalse(rs.next());
    }
  }

  interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }

  /** Each column of clients.alltypes compared with a parameter of its type finds row 1 (or 3). */
  @Test
  void preparedStatementParametersOfEveryType() throws SQLException {
    Map<String, Binder> row1 = new LinkedHashMap<>();
    row1.put("i8", ps -> ps.setByte(1, (byte) 1));
    row1.put("i16", ps -> ps.setShort(1, (short) 300));
    row1.put("i32", ps -> ps.setInt(1, 70000));
    row1.put("i64", ps -> ps.setLong(1, 5000000000L));
    row1.put("u32", ps -> ps.setLong(1, 4000000000L));
    row1.put("f32", ps -> ps.setFloat(1, 1.5f));
    row1.put("f64", ps -> ps.setDouble(1, 0.1));
    row1.put("`dec`", ps -> ps.setBigDecimal(1, new BigDecimal("12345.678")));
    row1.put("big", ps -> ps.setBigDecimal(1, new BigDecimal("1234567890123456789.0123456789")));
    row1.put("s", ps -> ps.setString(1, "plain"));
    row1.put("bin", ps -> ps.setBytes(1, new byte[] {0, (byte) 0xff}));
    row1.put("d", ps -> ps.setDate(1, Date.valueOf("2024-02-29")));
    row1.put("b", ps -> ps.setBoolean(1, true));
    row1.put("id", ps -> ps.setObject(1, 1));
    Map<String, String> wrong = new TreeMap<>();
    for (var e : row1.entrySet()) {
      String sql = "SELECT id FROM clients.alltypes WHERE " + e.getKey().strip() + " = ?";
      try (PreparedStatement ps = conn.prepareStatement(sql)) {
        assertEquals(1, ps.getParameterMetaData().getParameterCount());
        e.getValue().bind(ps);
        try (ResultSet rs = ps.executeQuery()) {
          List<List<Object>> got = rows(rs);
          if (!got.equals(List.of(List.of(1)))) wrong.put(e.getKey(), got.toString());
        }
      } catch (SQLException ex) {
        wrong.put(e.getKey(), ex.toString());
      }
    }
    // b = true also finds row 3
    if ("[[1], [3]]".equals(wrong.get("b"))) wrong.remove("b");
    assertEquals(Map.of(), wrong, "columns whose parameter did not find row 1");
    // many parameters at once, re-executed with other values
    String sql = "SELECT id FROM clients.alltypes WHERE i8 = ? AND s = ? AND `dec` = ? AND d = ? AND b = ?";
    try (PreparedStatement ps = conn.prepareStatement(sql)) {
      ps.setByte(1, (byte) 127);
      ps.setString(2, "ünïcødé ✓ 中文");
      ps.setBigDecimal(3, new BigDecimal("999999999.999"));
      ps.setDate(4, Date.valueOf("1999-12-31"));
      ps.setBoolean(5, true);
      try (ResultSet rs = ps.executeQuery()) {
        assertEquals(List.of(List.of(3)), rows(rs));
      }
      ps.setByte(1, (byte) 1);
      ps.setString(2, "plain");
      ps.setBigDecimal(3, new BigDecimal("12345.678"));
      ps.setDate(4, Date.valueOf("2024-02-29"));
      ps.setBoolean(5, true);
      try (ResultSet rs = ps.executeQuery()) {
        assertEquals(List.of(List.of(1)), rows(rs));
      }
    }
  }

  /**
   * Timestamp parameters. The driver sends a java.sql.Timestamp as epoch milliseconds of its
   * wall-clock time (Avatica keeps no finer fraction) into the vector parameter_schema asks for;
   * the server advertises timestamp parameters in milliseconds so the value keeps its unit.
   */
  @Test
  void timestampParameters() throws SQLException {
    try (PreparedStatement ps = conn.prepareStatement("SELECT id FROM clients.alltypes WHERE ts = ?")) {
      ps.setTimestamp(1, Timestamp.valueOf("2038-01-19 03:14:08"));
      try (ResultSet rs = ps.executeQuery()) {
        assertEquals(List.of(List.of(4)), rows(rs), "timestamp parameter");
      }
      ps.setTimestamp(1, Timestamp.valueOf("1970-01-01 00:00:00"));
      try (ResultSet rs = ps.executeQuery()) {
        assertEquals(List.of(List.of(2)), rows(rs), "epoch timestamp parameter");
      }
    }
    // Row 1 is 2024-02-29 12:34:56.789012: the milliseconds arrive.
    try (PreparedStatement ps = conn.prepareStatement("SELECT id FROM clients.alltypes WHERE ts >= ? AND ts < ? ORDER BY id")) {
      ps.setTimestamp(1, Timestamp.valueOf("2024-02-29 12:34:56.789"));
      ps.setTimestamp(2, Timestamp.valueOf("2024-02-29 12:34:56.790"));
      try (ResultSet rs = ps.executeQuery()) {
        assertEquals(List.of(List.of(1)), rows(rs), "timestamp parameters with milliseconds");
      }
      ps.setTimestamp(1, Timestamp.valueOf("2024-02-29 12:34:56.790"));
      ps.setTimestamp(2, Timestamp.valueOf("2024-02-29 12:34:56.791"));
      try (ResultSet rs = ps.executeQuery()) {
        assertEquals(List.of(), rows(rs), "timestamp parameters one millisecond later");
      }
    }
  }

  @Test
  void preparedUpdatesAndNullParameters() throws SQLException {
    try (Statement s = conn.createStatement()) {
      assertEquals(0, s.executeUpdate(
          "CREATE TABLE test.j_types (id INT, d DECIMAL(10,2), s VARCHAR(20), dt DATE, ts DATETIME, b BOOLEAN, f DOUBLE)"));
      assertEquals(1, s.executeUpdate("INSERT INTO test.j_types VALUES (1, 1.25, 'a', '2024-01-01', '2024-01-01 10:00:00', true, 0.5)"));
    }
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO test.j_types VALUES (?, ?, ?, ?, ?, ?, ?)")) {
      ps.setInt(1, 2);
      ps.setBigDecimal(2, new BigDecimal("-3.50"));
      ps.setString(3, "b");
      ps.setDate(4, Date.valueOf("2023-12-31"));
      ps.setTimestamp(5, Timestamp.valueOf("2023-12-31 23:00:00"));
      ps.setBoolean(6, false);
      ps.setDouble(7, 2.25);
      assertEquals(1, ps.executeUpdate());
      ps.setInt(1, 3);
      ps.setNull(2, Types.DECIMAL);
      ps.setNull(3, Types.VARCHAR);
      ps.setNull(4, Types.DATE);
      ps.setNull(5, Types.TIMESTAMP);
      ps.setNull(6, Types.BOOLEAN);
      ps.setNull(7, Types.DOUBLE);
      assertEquals(1, ps.executeUpdate());
    }
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, d, s, dt, b, ts FROM test.j_types ORDER BY id")) {
      List<List<Object>> got = rows(rs);
      assertEquals(3, got.size());
      assertEquals(new BigDecimal("-3.50"), got.get(1).get(1));
      assertEquals("b", got.get(1).get(2).toString());
      assertEquals(java.util.Arrays.asList(3, null, null, null, null, null), got.get(2));
    }
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, ts FROM test.j_types WHERE id = 2")) {
      assertTrue(rs.next());
      assertEquals(Timestamp.valueOf("2023-12-31 23:00:00"), rs.getTimestamp(2), "timestamp inserted through a parameter");
    }
    try (Statement s = conn.createStatement()) {
      s.executeUpdate("DROP TABLE test.j_types");
    }
  }

  @Test
  void errorsAreSqlExceptions() throws SQLException {
    try (Statement s = conn.createStatement()) {
      SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELEC 1"));
      assertTrue(e.getMessage().contains("syntax"), e.getMessage());
      e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT * FROM no_such_table"));
      assertTrue(e.getMessage().contains("doesn't exist"), e.getMessage());
      try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM region")) {
        assertTrue(rs.next());
        assertEquals(5, rs.getLong(1));
      }
    }
  }

  @Test
  void cancelStopsARunningQuery() throws Exception {
    // A server of its own: the engine may keep working on the cancelled query for a while.
    QuiverServer srv = QuiverServer.start();
    try (Connection conn = srv.connect(); Statement s = conn.createStatement()) {
      AtomicReference<Throwable> err = new AtomicReference<>();
      Thread t = new Thread(() -> {
        try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM lineitem a JOIN lineitem b"
            + " ON a.l_quantity + b.l_quantity > 0 WHERE a.l_orderkey + b.l_orderkey < 0")) {
          while (rs.next()) { /* drain */ }
        } catch (Throwable e) {
          err.set(e);
        }
      });
      t.start();
      Thread.sleep(1500);
      assertTrue(t.isAlive(), "the long query finished before it could be cancelled");
      long start = System.nanoTime();
      s.cancel();
      t.join(10_000);
      assertFalse(t.isAlive(), "query still running 10 s after cancel");
      assertTrue(System.nanoTime() - start < 5_000_000_000L, "cancel took more than 5 s");
      assertTrue(err.get() instanceof SQLException, "expected an SQLException, got " + err.get());
      try (Statement s2 = conn.createStatement(); ResultSet rs = s2.executeQuery("SELECT COUNT(*) FROM nation")) {
        assertTrue(rs.next());
        assertEquals(25, rs.getLong(1));
      }
    } finally {
      srv.process.destroyForcibly().waitFor();
      srv.close();
    }
  }
}
