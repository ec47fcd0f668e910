package io.handoff.hub.support;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged hub ({@code target/quarkus-app/quarkus-run.jar}, prod profile) as a child process configured the way a
 * pod is, through environment variables only, with its log in its folder. For tests that need hubs as separate
 * processes (several replicas, a guide run as a user would).
 */
public final class PackagedHub implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public final int httpPort;
    public final int managementPort;
    private final Process process;

    private PackagedHub(Process process, int httpPort, int managementPort) {
        this.process = process;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
    }

    /**
     * Starts a hub in {@code dir} (its working folder, data folder and {@code hub.log}) on two free ports with
     * {@code env} added to this process's environment, and waits until it answers ready.
     */
    public static PackagedHub start(Path dir, Map<String, String> env) throws IOException {
        int[] ports = HubTestResource.freePorts(2);
        PackagedHub hub = new PackagedHub(launch(dir, env, ports), ports[0], ports[1]);
        await("the hub in " + dir + " ready").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    if (!hub.process.isAlive()) {
                        throw new IllegalStateException("the hub exited with " + hub.process.exitValue() + "; see "
                                + dir.resolve("hub.log"));
                    }
                    return hub.ready();
                });
        return hub;
    }

    /**
     * Starts a hub as {@link #start} does, but expects it to refuse to start: waits for it to exit (at most 120 s)
     * and returns its exit code.
     */
    public static int refusal(Path dir, Map<String, String> env) throws IOException, InterruptedException {
        Process process = launch(dir, env, HubTestResource.freePorts(2));
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            throw new IllegalStateException("the hub in " + dir + " did not exit; see " + log(dir));
        }
        return process.exitValue();
    }

    /** The log file of the hub started in {@code dir}. */
    public static Path log(Path dir) {
        return dir.resolve("hub.log");
    }

    private static Process launch(Path dir, Map<String, String> env, int[] ports) throws IOException {
        Files.createDirectories(dir);
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath().toString())
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log(dir).toFile());
        builder.environment().putAll(Map.of("HUB_DATA_DIR", dir.toString(), "QUARKUS_HTTP_PORT",
                Integer.toString(ports[0]), "QUARKUS_MANAGEMENT_PORT", Integer.toString(ports[1])));
        builder.environment().putAll(env);
        return builder.start();
    }

    private boolean ready() throws InterruptedException {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort
                    + "/q/health/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    public String url() {
        return "http://127.0.0.1:" + httpPort;
    }

    /** The Prometheus text of its management interface. */
    public String metrics() throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/q/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** SIGKILL, as a lost node: no shutdown at all. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL if it has not stopped within 30 s. */
    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** SIGTERM, as Kubernetes stops a pod; SIGKILL if it has not stopped within 30 s. Returns the exit code. */
    public int stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            kill();
        }
        return process.exitValue();
    }
}
