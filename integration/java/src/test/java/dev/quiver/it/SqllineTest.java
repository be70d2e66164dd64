package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import sqlline.SqlLine;

/** A scripted session through sqlline, a JDBC SQL shell, as a DBeaver-style tool would run it. */
class SqllineTest {
  @Test
  void scriptedSession() throws Exception {
    String script = String.join("\n",
        "!tables",
        "!columns nation",
        "!primarykeys nation",
        "SELECT n_nationkey, n_name FROM nation WHERE n_nationkey < 3 ORDER BY n_nationkey;",
        "CREATE TABLE test.sqlline_t (id INT, name VARCHAR(10));",
        "INSERT INTO test.sqlline_t VALUES (1, 'one'), (2, 'two');",
        "SELECT name FROM test.sqlline_t ORDER BY id DESC;",
        "SELECT * FROM no_such_table;",
        "DROP TABLE test.sqlline_t;",
        "!quit",
        "");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
    SqlLine sqlline = new SqlLine();
    sqlline.setOutputStream(ps);
    sqlline.setErrorStream(ps);
    SqlLine.Status status = sqlline.begin(new String[] {
        "-d", "org.apache.arrow.driver.jdbc.ArrowFlightJdbcDriver",
        "-u", QuiverServer.shared().url(),
        "--connectInteractionMode=notAskCredentials",
        "--outputformat=csv", "--showHeader=true", "--silent=false", "--color=false",
        "--maxWidth=200", "--isolation=TRANSACTION_NONE"},
        new ByteArrayInputStream(script.getBytes(StandardCharsets.UTF_8)), false);
    String text = out.toString(StandardCharsets.UTF_8);
    // the query's rows, as csv
    assertTrue(text.contains("'n_nationkey','n_name'\n'0','ALGERIA'\n'1','ARGENTINA'\n'2','BRAZIL'"), text);
    // !tables and !columns list the catalog through DatabaseMetaData
    assertTrue(text.contains("'def','tpch','lineitem','BASE TABLE'"), text);
    assertTrue(text.contains("'def','tpch','nation','n_regionkey'"), text);
    // DDL/DML run; the inserted rows come back
    assertTrue(text.contains("'name'\n'two'\n'one'"), text);
    // the bad query reports the server's error and the session continues
    assertTrue(text.contains("Table 'tpch.no_such_table' doesn't exist"), text);
    assertEquals(SqlLine.Status.OK, status, "status " + status + "\n" + text);
  }
}
