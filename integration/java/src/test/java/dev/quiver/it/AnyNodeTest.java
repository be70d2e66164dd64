package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JDBC driver behind a per-call load balancer: three real {@code quiver serve} nodes (one
 * cluster: users file, cluster secret, shared data directory) behind the test proxy
 * (integration/lbproxy), which sends every RPC to the next node and logs each call (node, Flight
 * SQL command, a digest of the prepared statement handle). System property {@code lbproxy.bin}
 * names the proxy binary ({@code make test-java} builds it); without it it is built with {@code
 * go build}.
 */
class AnyNodeTest {
  static final String[] NODES = {"n1", "n2", "n3"};
  static final List<Process> procs = new ArrayList<>();
  static final List<String> addrs = new ArrayList<>();
  static Path dir;
  static Path calls;
  static int proxyPort;

  @BeforeAll
  static void startCluster() throws Exception {
    dir = Files.createTempDirectory("quiver-jdbc-anynode");
    String bin = QuiverServer.binary();
    Path users = dir.resolve("users");
    Process add = new ProcessBuilder(bin, "user", "add", "--users", users.toString(), "alice")
        .redirectErrorStream(true).start();
    add.getOutputStream().write("pw-alice\n".getBytes());
    add.getOutputStream().close();
    assertEquals(0, add.waitFor(), new String(add.getInputStream().readAllBytes()));
    Path secret = dir.resolve("secret");
    Files.writeString(secret, "jdbc-anynode-secret\n");
    Path data = dir.resolve("data");
    copyTree(QuiverServer.REPO.resolve("testdata/tpch-sf0.01"), data);
    Files.createDirectories(data.resolve("test"));
    String firstGossip = null;
    for (String name : NODES) {
      int port = freePort();
      String gossip = "127.0.0.1:" + freePort();
      List<String> cmd = new ArrayList<>(List.of(bin, "serve", "--listen", "127.0.0.1:" + port,
          "--data", data.toString(), "--default-schema", "tpch", "--users", users.toString(),
          "--cluster-secret-file", secret.toString(), "--node-name", name,
          "--cluster-listen", "127.0.0.1:" + freePort(), "--gossip-listen", gossip,
          "--work-dir", dir.resolve("work-" + name).toString(), "--parallelism", "2", "--log-level", "warn"));
      if (firstGossip != null) {
        cmd.addAll(List.of("--join", firstGossip));
      } else {
        firstGossip = gossip;
      }
      procs.add(start(cmd, dir.resolve(name + ".log").toFile(), port));
      addrs.add("127.0.0.1:" + port);
    }
    // Session changes go to the members a node knows: wait until each knows all three.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
    for (String addr : addrs) {
      while (true) {
        String alive = "";
        try (Connection c = DriverManager.getConnection(url(addr));
            Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT node_name FROM system.nodes WHERE state = 'alive' ORDER BY node_name")) {
          StringBuilder sb = new StringBuilder();
          while (rs.next()) sb.append(rs.getString(1)).append(' ');
          alive = sb.toString().trim();
        }
        if (alive.equals("n1 n2 n3")) break;
        assertTrue(System.nanoTime() < deadline, "cluster did not form on " + addr + ": " + alive);
        QuiverServer.sleep(200);
      }
    }
    proxyPort = freePort();
    calls = dir.resolve("calls.jsonl");
    procs.add(start(List.of(proxyBinary(), "-listen", "127.0.0.1:" + proxyPort, "-backends", String.join(",", addrs),
        "-log", calls.toString()), dir.resolve("lbproxy.log").toFile(), proxyPort));
  }

  @AfterAll
  static void stop() throws Exception {
    for (Process p : procs) {
      p.destroyForcibly().waitFor();
    }
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static String url(String addr) {
    return "jdbc:arrow-flight-sql://" + addr + "?useEncryption=false&user=alice&password=pw-alice";
  }

  /**
   * Closes a connection made with the {@code catalog} property. Driver 18.3 closes its client
   * handler twice: the first CloseSession reaches the server (the session is closed there), the
   * second goes to the already shut down channel, so close() fails with "Channel shutdown
   * invoked" on the client side.
   */
  static void closeWithCatalog(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      assertTrue(String.valueOf(e.getMessage()).contains("Channel shutdown invoked"), e.toString());
    }
  }

  /** One forwarded call, from the proxy's log. */
  record Call(int backend, String method, String command, String handle) {}

  static final Pattern FIELD = Pattern.compile("\"(\\w+)\":(?:\"([^\"]*)\"|(\\d+))");

  static List<Call> calls() throws IOException {
    List<Call> out = new ArrayList<>();
    for (String line : Files.readAllLines(calls)) {
      if (line.isBlank()) continue;
      TreeMap<String, String> f = new TreeMap<>();
      Matcher m = FIELD.matcher(line);
      while (m.find()) f.put(m.group(1), m.group(2) != null ? m.group(2) : m.group(3));
      String method = f.getOrDefault("method", "");
      out.add(new Call(Integer.parseInt(f.get("backend")), method.substring(method.lastIndexOf('/') + 1),
          f.getOrDefault("command", ""), f.getOrDefault("handle", "")));
    }
    return out;
  }

  static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      StringBuilder sb = new StringBuilder();
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= n; i++) sb.append(i > 1 ? "|" : "").append(rs.getString(i));
        sb.append('\n');
      }
      return sb.toString();
    }
  }

  @Test
  void jdbcBehindLoadBalancer() throws Exception {
    // The catalog property makes the driver send SetSessionOptions on connect.
    Connection conn = DriverManager.getConnection(url("127.0.0.1:" + proxyPort) + "&catalog=def");
    try (Connection direct = DriverManager.getConnection(url(addrs.get(0)))) {
      int start = 0;

      // A PreparedStatement with parameters, executed with several values: the prepare, the
      // bind (DoPut), GetFlightInfo and DoGet land on different nodes.
      int prepStart = calls().size();
      try (PreparedStatement ps = conn.prepareStatement("SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = ?")) {
        for (int key = 0; key < 6; key++) {
          ps.setLong(1, key);
          StringBuilder got = new StringBuilder();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) got.append(rs.getString(1)).append('|').append(rs.getString(2)).append('\n');
          }
          String want = one(direct, "SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = " + key);
          assertEquals(want, got.toString(), "key " + key);
          assertEquals(1, want.split("\n").length);
        }
      }
      // Which handle does the driver execute after binding: the one DoPut returned (carrying the
      // parameters) or the one it prepared? Count the distinct handles per call kind.
      Set<String> putHandles = new HashSet<>();
      Set<String> infoHandles = new HashSet<>();
      Set<Integer> prepNodes = new HashSet<>();
      for (Call c : calls().subList(prepStart, calls().size())) {
        if (!c.command().equals("CommandPreparedStatementQuery")) continue;
        prepNodes.add(c.backend());
        if (c.method().equals("DoPut")) putHandles.add(c.handle());
        if (c.method().equals("GetFlightInfo")) infoHandles.add(c.handle());
      }
      infoHandles.removeAll(putHandles);
      System.out.printf("JDBC prepared statement: %d distinct handles bound with DoPut, %d GetFlightInfo handles "
          + "not among them (%s)%n", putHandles.size(), infoHandles.size(),
          infoHandles.isEmpty() ? "the driver keeps the prepared handle" : "the driver takes DoPut's new handle");
      assertEquals(Set.of(0, 1, 2), prepNodes, "prepared statement calls per node");

      // Statement queries, USE, and the session on every node.
      try (Statement s = conn.createStatement()) {
        s.executeUpdate("CREATE TABLE test.jdbc_anynode (a BIGINT)");
        assertEquals(3, s.executeUpdate("INSERT INTO test.jdbc_anynode VALUES (1), (2), (3)"));
        s.execute("USE test");
      }
      for (int i = 0; i < 3; i++) {
        assertEquals("3|6\n", one(conn, "SELECT count(*), sum(a) FROM jdbc_anynode"), "unqualified query after USE");
      }
      try (Statement s = conn.createStatement()) {
        s.execute("USE tpch");
      }
      String nations = one(direct, "SELECT count(*) FROM tpch.nation");
      for (int i = 0; i < 3; i++) {
        assertEquals(nations, one(conn, "SELECT count(*) FROM nation"), "unqualified query after USE tpch");
      }

      // Metadata.
      DatabaseMetaData md = conn.getMetaData();
      Set<String> tables = new HashSet<>();
      try (ResultSet rs = md.getTables(null, "tpch", "%", null)) {
        while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
      }
      assertTrue(tables.containsAll(List.of("nation", "region", "lineitem")), tables.toString());

      int[] perNode = new int[NODES.length];
      for (Call c : calls().subList(start, calls().size())) perNode[c.backend()]++;
      System.out.printf("JDBC calls per node through the proxy: %s%n", java.util.Arrays.toString(perNode));
      for (int i = 0; i < perNode.length; i++) {
        assertTrue(perNode[i] > 3, "node " + NODES[i] + " got " + perNode[i] + " calls");
      }
      assertTrue(calls().stream().anyMatch(c -> c.command().equals("SetSessionOptions")), "no SetSessionOptions for catalog");
    } finally {
      closeWithCatalog(conn);
    }
  }

  static Process start(List<String> cmd, File log, int port) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
    procs.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      if (!p.isAlive()) {
        throw new IllegalStateException(cmd.get(0) + " exited with " + p.exitValue() + ":\n" + Files.readString(log.toPath()));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        procs.remove(p);
        return p;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(cmd.get(0) + " did not listen within 30 s");
        }
        QuiverServer.sleep(50);
      }
    }
  }

  static String proxyBinary() throws Exception {
    String bin = System.getProperty("lbproxy.bin", "");
    if (!bin.isEmpty()) return bin;
    Path out = dir.resolve("lbproxy");
    Process p = new ProcessBuilder("go", "build", "-o", out.toString(), "./integration/lbproxy/cmd/lbproxy")
        .directory(QuiverServer.REPO.toFile()).inheritIO().start();
    assertEquals(0, p.waitFor(), "go build lbproxy");
    return out.toString();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static void copyTree(Path src, Path dst) throws IOException {
    try (var s = Files.walk(src)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
  }
}
