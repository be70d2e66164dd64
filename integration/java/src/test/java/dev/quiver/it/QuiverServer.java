package dev.quiver.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code quiver serve} process over a copy of testdata/tpch-sf0.01 (schema tpch, the
 * default) and integration/testdata/clients/alltypes.parquet (clients.alltypes), on a free
 * loopback port. System properties: {@code quiver.bin} (the binary; built with {@code go build}
 * when empty) and {@code quiver.repo} (the repository root).
 */
public final class QuiverServer implements AutoCloseable {
  public static final Path REPO = Path.of(System.getProperty("quiver.repo", "../..")).toAbsolutePath().normalize();
  public static final Path CLIENTS_TESTDATA = REPO.resolve("integration/testdata/clients");

  private static QuiverServer shared;

  public final String host = "127.0.0.1";
  public final int port;
  public final Path dir;
  public final Process process;

  /** The server shared by the test classes of this JVM, stopped at exit. */
  public static synchronized QuiverServer shared() {
    if (shared == null) {
      shared = start();
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close));
    }
    return shared;
  }

  public static QuiverServer start(String... extraArgs) {
    try {
      return new QuiverServer(extraArgs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private QuiverServer(String... extraArgs) throws IOException {
    dir = Files.createTempDirectory("quiver-jdbc-it");
    Path data = dir.resolve("data");
    copyTree(REPO.resolve("testdata/tpch-sf0.01"), data);
    Files.createDirectories(data.resolve("test"));
    Files.createDirectories(data.resolve("clients"));
    Files.copy(CLIENTS_TESTDATA.resolve("alltypes.parquet"), data.resolve("clients/alltypes.parquet"));
    port = freePort();
    List<String> cmd = new ArrayList<>(List.of(binary(), "serve", "--listen", host + ":" + port,
        "--data", data.toString(), "--default-schema", "tpch", "--log-level", "warn"));
    cmd.addAll(List.of(extraArgs));
    File log = dir.resolve("server.log").toFile();
    process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("quiver serve exited with " + process.exitValue() + ":\n" + Files.readString(log.toPath()));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(host, port), 500);
        break;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline) {
          process.destroyForcibly();
          throw new IllegalStateException("quiver serve did not listen within 30 s");
        }
        sleep(50);
      }
    }
  }

  public String url() {
    return "jdbc:arrow-flight-sql://" + host + ":" + port + "?useEncryption=false";
  }

  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url());
  }

  public String log() {
    try {
      return Files.readString(dir.resolve("server.log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }

  private static String builtBinary;

  /** The quiver binary: {@code quiver.bin}, or built once with {@code go build}. */
  static synchronized String binary() throws IOException {
    String bin = System.getProperty("quiver.bin", "");
    if (!bin.isEmpty()) {
      return bin;
    }
    if (builtBinary != null) {
      return builtBinary;
    }
    Path out = Files.createTempDirectory("quiver-bin").resolve("quiver");
    try {
      Process p = new ProcessBuilder("go", "build", "-o", out.toString(), "./cmd/quiver")
          .directory(REPO.toFile()).inheritIO().start();
      if (p.waitFor() != 0) {
        throw new IllegalStateException("go build failed");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    builtBinary = out.toString();
    return builtBinary;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void copyTree(Path src, Path dst) throws IOException {
    try (Stream<Path> s = Files.walk(src)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Path t = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
