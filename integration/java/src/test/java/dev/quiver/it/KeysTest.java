package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PRIMARY KEY metadata and the row edits DBeaver makes by key. */
class KeysTest {
  static Connection conn;

  @BeforeAll
  static void connect() throws SQLException {
    conn = QuiverServer.shared().connect();
  }

  @AfterAll
  static void close() throws SQLException {
    conn.close();
  }

  @Test
  void primaryKeyReportedAndEditableByKey() throws SQLException {
    try (Statement s = conn.createStatement()) {
      s.execute("DROP TABLE IF EXISTS test.j_keys");
      s.execute("CREATE TABLE test.j_keys (name VARCHAR(10), id INT, region INT, PRIMARY KEY (region, id))");
      s.execute("INSERT INTO test.j_keys VALUES ('a', 1, 7), ('b', 2, 7)");
    }
    List<String> keys = new ArrayList<>();
    try (ResultSet rs = conn.getMetaData().getPrimaryKeys(null, "test", "j_keys")) {
      while (rs.next()) {
        keys.add(rs.getString("TABLE_NAME") + " " + rs.getString("COLUMN_NAME") + " " + rs.getInt("KEY_SEQ") + " " + rs.getString("PK_NAME"));
      }
    }
    assertEquals(List.of("j_keys region 1 PRIMARY", "j_keys id 2 PRIMARY"), keys);

    // DBeaver saves an edited cell as UPDATE ... WHERE <key columns> = ?.
    try (PreparedStatement ps = conn.prepareStatement("UPDATE test.j_keys SET name = ? WHERE region = ? AND id = ?")) {
      ps.setString(1, "edited");
      ps.setInt(2, 7);
      ps.setInt(3, 2);
      assertEquals(1, ps.executeUpdate());
    }
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT name FROM test.j_keys WHERE id = 2")) {
      assertTrue(rs.next());
      assertEquals("edited", rs.getString(1));
      assertFalse(rs.next());
    }
    // An edit of the key onto another row's key is refused, nothing changes.
    try (PreparedStatement ps = conn.prepareStatement("UPDATE test.j_keys SET id = ? WHERE region = ? AND id = ?")) {
      ps.setInt(1, 1);
      ps.setInt(2, 7);
      ps.setInt(3, 2);
      SQLException e = assertThrows(SQLException.class, ps::executeUpdate);
      assertTrue(String.valueOf(e.getMessage()).contains("Duplicate entry '7-1' for key 'j_keys.PRIMARY'"), e.getMessage());
    }
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM test.j_keys WHERE id = 2")) {
      assertTrue(rs.next());
      assertEquals(1, rs.getLong(1));
    }
    // A batch (one DoPut, one commit) repeating a key is refused whole.
    try (PreparedStatement ps = conn.prepareStatement("INSERT INTO test.j_keys VALUES (?, ?, 8)")) {
      for (int id : new int[] {1, 2, 1}) {
        ps.setString(1, "n" + id);
        ps.setInt(2, id);
        ps.addBatch();
      }
      SQLException e = assertThrows(SQLException.class, ps::executeBatch);
      assertTrue(String.valueOf(e.getMessage()).contains("Duplicate entry '8-1' for key 'j_keys.PRIMARY'"), e.getMessage());
    }
    try (Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM test.j_keys")) {
      assertTrue(rs.next());
      assertEquals(2, rs.getLong(1));
    }
  }
}
