package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PreparedStatement.addBatch/executeBatch: one DoPut, run by the server as one INSERT. */
class BatchInsertTest {
  static Connection conn;

  @BeforeAll
  static void connect() throws SQLException {
    conn = QuiverServer.shared().connect();
  }

  @AfterAll
  static void close() throws SQLException {
    conn.close();
  }

  static long count(String sql) throws SQLException {
    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      assertTrue(rs.next());
      return rs.getLong(1);
    }
  }

  static long partFiles(String table) throws Exception {
    Path dir = QuiverServer.shared().dir.resolve("data/test").resolve(table);
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".parquet")).count();
    }
  }

  @Test
  void executeBatch_5000Rows_oneCommit() throws Exception {
    try (Statement s = conn.createStatement()) {
      s.execute("CREATE TABLE test.j_batch (id INT NOT NULL, name VARCHAR(10), day DATE)");
    }
    final int n = 5000;
    int[] counts;
    long start = System.nanoTime();
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO test.j_batch VALUES (?, ?, ?)")) {
      for (int i = 1; i <= n; i++) {
        ps.setInt(1, i);
        ps.setString(2, "r" + i);
        ps.setDate(3, Date.valueOf(LocalDate.of(2024, 1, 1).plusDays(i % 365)));
        ps.addBatch();
      }
      counts = ps.executeBatch();
    }
    System.out.printf("JDBC executeBatch of %d rows: %d ms%n", n, (System.nanoTime() - start) / 1_000_000);
    // The driver (18.3, ArrowFlightMetaImpl.executeBatch) binds every row into
    // one parameter batch, runs one update and answers one count: the total.
    assertEquals(1, counts.length);
    assertEquals(n, counts[0]);
    assertEquals(n, count("SELECT COUNT(*) FROM test.j_batch"));
    assertEquals((long) n * (n + 1) / 2, count("SELECT SUM(id) FROM test.j_batch"));
    assertEquals(1, count("SELECT COUNT(*) FROM test.j_batch WHERE name = 'r4999' AND id = 4999"));
    assertEquals(1, partFiles("j_batch"));
  }

  @Test
  void executeBatch_badRow_writesNothing() throws Exception {
    try (Statement s = conn.createStatement()) {
      s.execute("CREATE TABLE test.j_batch_bad (id INT NOT NULL, name VARCHAR(3))");
    }
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO test.j_batch_bad VALUES (?, ?)")) {
      for (int i = 1; i <= 100; i++) {
        ps.setInt(1, i);
        ps.setString(2, i == 77 ? "toolong" : "ok");
        ps.addBatch();
      }
      SQLException e = assertThrows(SQLException.class, ps::executeBatch);
      assertTrue(String.valueOf(e.getMessage()).contains("Data too long for column 'name' at row 77"), e.getMessage());
    }
    assertEquals(0, count("SELECT COUNT(*) FROM test.j_batch_bad"));
  }
}
