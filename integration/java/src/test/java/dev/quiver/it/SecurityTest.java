package dev.quiver.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JDBC driver against a server with TLS (a self-signed certificate made with openssl) and
 * users (a users file made with {@code quiver user add}): {@code useEncryption=true} with the
 * certificate as trust root or with verification disabled, user/password login, wrong or missing
 * credentials, a read-only user refused DDL/DML, and plaintext or untrusting clients refused.
 */
class SecurityTest {
  static Path dir;
  static Path cert;
  static QuiverServer srv;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("quiver-jdbc-sec");
    cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    run(null, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", key.toString(), "-out", cert.toString());
    Path users = dir.resolve("users");
    run("s3cret\n", QuiverServer.binary(), "user", "add", "--users", users.toString(), "alice");
    run("r3ad\n", QuiverServer.binary(), "user", "add", "--users", users.toString(), "--read-only", "reader");
    srv = QuiverServer.start("--users", users.toString(), "--tls-cert", cert.toString(), "--tls-key", key.toString());
  }

  @AfterAll
  static void stop() throws IOException {
    if (srv != null) {
      srv.close();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  static void run(String stdin, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (stdin != null) {
      p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    }
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + out);
    }
  }

  static String url(String params) {
    return "jdbc:arrow-flight-sql://" + srv.host + ":" + srv.port + "?" + params;
  }

  static String trusted(String user, String password) {
    return url("useEncryption=true&tlsRootCerts=" + cert + "&user=" + user + "&password=" + password);
  }

  static long count(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM region")) {
      assertTrue(rs.next());
      return rs.getLong(1);
    }
  }

  /** Connects and runs a query: the driver may report bad credentials at either step. */
  static SQLException refused(String url) {
    return assertThrows(SQLException.class, () -> {
      try (Connection c = DriverManager.getConnection(url)) {
        count(c);
      }
    }, "connection to " + url + " was accepted");
  }

  static String messages(Throwable e) {
    StringBuilder b = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      b.append(t).append('\n');
    }
    return b.toString().toLowerCase(Locale.ROOT);
  }

  @Test
  void tlsWithUserAndPassword() throws SQLException {
    try (Connection c = DriverManager.getConnection(trusted("alice", "s3cret"))) {
      assertEquals(5, count(c));
      try (PreparedStatement ps = c.prepareStatement("SELECT n_name FROM nation WHERE n_nationkey = ?")) {
        ps.setInt(1, 7);
        try (ResultSet rs = ps.executeQuery()) {
          assertTrue(rs.next());
          assertEquals("GERMANY", rs.getString(1));
        }
      }
      try (Statement s = c.createStatement()) {
        s.executeUpdate("CREATE TABLE test.sec_t (a INT)");
        assertEquals(2, s.executeUpdate("INSERT INTO test.sec_t VALUES (1), (2)"));
        s.executeUpdate("DROP TABLE test.sec_t");
      }
    }
  }

  @Test
  void tlsWithoutCertificateVerification() throws SQLException {
    String u = url("useEncryption=true&disableCertificateVerification=true&user=alice&password=s3cret");
    try (Connection c = DriverManager.getConnection(u)) {
      assertEquals(5, count(c));
    }
  }

  @Test
  void wrongOrMissingCredentials() {
    SQLException e = refused(trusted("alice", "wrong"));
    assertTrue(messages(e).contains("unauthenticated") || messages(e).contains("invalid user name or password"),
        messages(e));
    refused(trusted("nobody", "s3cret"));
    refused(url("useEncryption=true&tlsRootCerts=" + cert));
  }

  @Test
  void readOnlyUser() throws SQLException {
    try (Connection c = DriverManager.getConnection(trusted("reader", "r3ad"))) {
      assertEquals(5, count(c));
      for (String sql : List.of("CREATE TABLE test.ro (a INT)", "CREATE DATABASE ro", "DROP TABLE tpch.region")) {
        try (Statement s = c.createStatement()) {
          SQLException e = assertThrows(SQLException.class, () -> s.executeUpdate(sql), sql);
          assertTrue(messages(e).contains("permission") || messages(e).contains("read-only"), sql + ": " + messages(e));
        }
      }
      assertEquals(5, count(c), "region is still there");
    }
  }

  /**
   * With --advertise-endpoints result endpoints carry grpc+tls://host:port: the driver opens a new
   * client for the location, with TLS (decided by the scheme alone) and the same credentials.
   */
  @Test
  void advertisedEndpointsKeepTls() throws Exception {
    Path users = dir.resolve("users");
    QuiverServer adv = QuiverServer.start("--users", users.toString(), "--tls-cert", cert.toString(),
        "--tls-key", dir.resolve("key.pem").toString(), "--advertise-endpoints");
    try (Connection c = DriverManager.getConnection("jdbc:arrow-flight-sql://" + adv.host + ":" + adv.port
        + "?useEncryption=true&tlsRootCerts=" + cert + "&user=alice&password=s3cret")) {
      assertEquals(5, count(c));
      try (PreparedStatement ps = c.prepareStatement("SELECT n_name FROM nation WHERE n_regionkey = ? ORDER BY n_name")) {
        ps.setInt(1, 3);
        try (ResultSet rs = ps.executeQuery()) {
          assertTrue(rs.next());
          assertEquals("FRANCE", rs.getString(1));
        }
      }
    } finally {
      adv.close();
    }
  }

  @Test
  void plaintextOrUntrustingClientsRefused() {
    refused(url("useEncryption=false&user=alice&password=s3cret"));
    // useEncryption=true with the JVM's trust store: the self-signed certificate is not trusted.
    refused(url("useEncryption=true&user=alice&password=s3cret"));
  }
}
