package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Per-partition result endpoints ({@code --advertise-endpoints}) with the JDBC driver: three
 * {@code quiver serve} processes over one data directory form a cluster; a query without ORDER
 * BY has one endpoint per partition, located at several nodes, and the driver (a client per
 * location) reads them all: row count and checksum equal the single-stream answer.
 */
class EndpointsTest {
  static final String QUERY = "SELECT l_orderkey, l_linenumber, l_quantity FROM test.li";
  static final List<QuiverServer> nodes = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    String gossip = "127.0.0.1:" + freePort();
    QuiverServer n1 = QuiverServer.start(node("n1", gossip));
    nodes.add(n1);
    // A table of three Parquet files (one per statement), so its scan has several partitions;
    // made before the peers start, which read the catalog from the shared data dir.
    try (Connection c = DriverManager.getConnection(n1.url()); Statement st = c.createStatement()) {
      st.executeUpdate("CREATE TABLE test.li AS SELECT l_orderkey, l_linenumber, l_quantity FROM lineitem WHERE l_orderkey % 3 = 0");
      st.executeUpdate("INSERT INTO test.li SELECT l_orderkey, l_linenumber, l_quantity FROM lineitem WHERE l_orderkey % 3 = 1");
      st.executeUpdate("INSERT INTO test.li SELECT l_orderkey, l_linenumber, l_quantity FROM lineitem WHERE l_orderkey % 3 = 2");
    }
    String data = n1.dir.resolve("data").toString();
    for (String name : List.of("n2", "n3")) {
      List<String> args = new ArrayList<>(List.of(node(name, "127.0.0.1:" + freePort())));
      args.addAll(List.of("--join", gossip, "--data", data));
      nodes.add(QuiverServer.start(args.toArray(String[]::new)));
    }
    long deadline = System.nanoTime() + 30_000_000_000L;
    try (Connection c = DriverManager.getConnection(n1.url())) {
      while (scalar(c, "SELECT COUNT(*) FROM system.nodes WHERE state = 'alive'") != 3) {
        assertTrue(System.nanoTime() < deadline, "the three nodes did not form a cluster");
        QuiverServer.sleep(200);
      }
    }
  }

  static String[] node(String name, String gossip) throws IOException {
    return new String[] {"--node-name", name, "--cluster-listen", "127.0.0.1:" + freePort(),
        "--gossip-listen", gossip, "--cluster-secret", "jdbc-endpoints-secret", "--parallelism", "4",
        "--partition-rows", "1000", "--advertise-endpoints"};
  }

  @AfterAll
  static void stop() {
    for (QuiverServer n : nodes) {
      n.close();
    }
  }

  @Test
  void readsEveryPartitionEndpoint() throws Exception {
    long[] want;
    // The single-stream answer (ORDER BY: one endpoint), coordinated by n2 so that n1's
    // system.tasks holds only the partitioned query.
    try (Connection c = DriverManager.getConnection(nodes.get(1).url())) {
      want = checksum(c, QUERY + " ORDER BY l_orderkey, l_linenumber");
    }
    assertEquals(60175, want[0]);
    try (Connection c = DriverManager.getConnection(nodes.get(0).url())) {
      long[] got = checksum(c, QUERY);
      assertEquals(want[0], got[0], "row count");
      assertEquals(want[1], got[1], "key checksum");
      assertEquals(want[2], got[2], "quantity checksum");
      Map<String, Long> served = new TreeMap<>();
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT node, COUNT(*) FROM system.tasks WHERE state = 'succeeded' GROUP BY node")) {
        while (rs.next()) {
          served.put(rs.getString(1), rs.getLong(2));
        }
      }
      System.out.println("JDBC: partitions served per node: " + served);
      assertTrue(served.size() >= 2, "every partition served by one node: " + served + "\n" + nodes.get(0).log());
    }
  }

  /** Row count, a checksum of the keys and the sum of quantities (cents). */
  static long[] checksum(Connection c, String sql) throws SQLException {
    long rows = 0, keys = 0, qty = 0;
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        rows++;
        keys += rs.getLong(1) * 31 + rs.getLong(2);
        qty += rs.getBigDecimal(3).movePointRight(2).longValueExact();
      }
    }
    return new long[] {rows, keys, qty};
  }

  static long scalar(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
