package io.handoff.hub.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Runs the hub under test on its embedded default (its own in-process Kafka broker on free ports, data under
 * {@code target/}) with known webhook secrets. With {@code -Dhub.test.db=postgresql} the hub uses a fresh database
 * on the PostgreSQL server at 127.0.0.1:5432 instead of H2 (dropped afterwards).
 */
public class HubTestResource implements QuarkusTestResourceLifecycleManager {

    public static final String SHOPIFY_SECRET = "test-shopify-client-secret";
    public static final String SHOPIFY_PREVIOUS_SECRET = "old-shopify-client-secret";
    /** The Standard Webhooks libraries' published test secret. */
    public static final String CHECKOUT_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    public static final String LOYALTY_SECRET = "whsec_bG95YWx0eS1jdXJyZW50LXNlY3JldC1rZXk=";
    public static final String LOYALTY_PREVIOUS_SECRET = "whsec_bG95YWx0eS1wcmV2aW91cy1zZWNyZXQta2V5";
    /** Salesforce's change notifications (address write-back: the CRM reports its master profile). */
    public static final String SALESFORCE_SECRET = "whsec_c2FsZXNmb3JjZS1jaGFuZ2Utbm90aWZpY2F0aW9ucw==";

    public static final String ADMIN_TOKEN = "test-admin-token";
    public static final String KAFKA_BOOTSTRAP_PROPERTY = "hub.test.kafka-bootstrap";
    public static final String POSTGRES_ADMIN_URL = "jdbc:postgresql://127.0.0.1:5432/test";

    private String database;

    @Override
    public Map<String, String> start() {
        Path dataDir = Path.of("target", "test-data", UUID.randomUUID().toString());
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> config = new HashMap<>();
        config.put("hub.data-dir", "./" + dataDir);
        int[] ports = freePorts(2);
        int kafkaPort = ports[0];
        config.put("hub.kafka.embedded.port", Integer.toString(kafkaPort));
        // For tests that run against the packaged jar and cannot read the application's configuration.
        System.setProperty(KAFKA_BOOTSTRAP_PROPERTY, "127.0.0.1:" + kafkaPort);
        config.put("hub.kafka.embedded.controller-port", Integer.toString(ports[1]));
        config.put("hub.systems.shopify.webhook-secret", SHOPIFY_SECRET);
        config.put("hub.systems.shopify.previous-webhook-secret", SHOPIFY_PREVIOUS_SECRET);
        config.put("hub.systems.checkout.webhook-secret", CHECKOUT_SECRET);
        config.put("hub.systems.loyalty.webhook-secret", LOYALTY_SECRET);
        config.put("hub.systems.salesforce.webhook-secret", SALESFORCE_SECRET);
        config.put("hub.systems.loyalty.previous-webhook-secret", LOYALTY_PREVIOUS_SECRET);
        config.put("hub.intake.max-body-bytes", "65536");
        // As in production, records as large as bodies: a body near the limit makes an event over it (413).
        config.put("hub.intake.max-event-bytes", "65536");
        config.put("hub.admin.token", ADMIN_TOKEN);
        config.put("hub.intake.delivery-key-cleanup-period-ms", "500");
        config.put("hub.intake.delivery-key-cleanup-delay-ms", "0");
        config.put("hub.consumers.redelivery-delay-ms", "20");
        config.put("hub.consumers.max-redelivery-delay-ms", "100");
        // Tests that need subscribers bring their own (VendorStubs, or the sandbox switched on explicitly).
        config.put("hub.sandbox.enabled", "false");
        if ("postgresql".equals(System.getProperty("hub.test.db"))) {
            database = createPostgresDatabase("handoff_test_");
            config.put("hub.db.kind", "postgresql");
            config.put("quarkus.datasource.postgresql.jdbc.url", "jdbc:postgresql://127.0.0.1:5432/" + database);
            config.put("quarkus.datasource.postgresql.username", "postgres");
            config.put("quarkus.datasource.postgresql.password", "");
        }
        return config;
    }

    @Override
    public void stop() {
        if (database != null) {
            dropPostgresDatabase(database);
        }
    }

    /** A new, empty database on the PostgreSQL server at 127.0.0.1:5432, named {@code prefix} + a random suffix. */
    public static String createPostgresDatabase(String prefix) {
        String name = prefix + UUID.randomUUID().toString().replace("-", "");
        execute(POSTGRES_ADMIN_URL, "CREATE DATABASE " + name);
        return name;
    }

    public static void dropPostgresDatabase(String name) {
        execute(POSTGRES_ADMIN_URL, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    static void execute(String url, String sql) {
        try (Connection connection = DriverManager.getConnection(url, "postgres", "");
                Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + url + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@code n} distinct free ports: the sockets are held open together while they are chosen, so the system cannot
     * hand out the same port twice (two separate {@link #freePort()} calls can).
     */
    public static int[] freePorts(int n) {
        ServerSocket[] sockets = new ServerSocket[n];
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                sockets[i] = new ServerSocket(0);
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket socket : sockets) {
                if (socket != null) {
                    try {
                        socket.close();
                    } catch (IOException e) {
                        // closing a probe socket
                    }
                }
            }
        }
    }

    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
