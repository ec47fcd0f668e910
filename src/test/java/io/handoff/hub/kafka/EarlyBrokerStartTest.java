package io.handoff.hub.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.eclipse.microprofile.config.Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;

import io.handoff.hub.support.HubTestResource;

/**
 * The embedded broker's early start (README command 1 starts the hub in prod mode, where it begins as soon as the
 * beans exist): the broker begun early is the one taken over, once; a start that failed leaves nothing to take, so
 * {@link KafkaBootstrap} starts the broker itself; a broker nobody took (the hub's start failed later) is stopped
 * with the beans; and settings that name an external cluster, or that the start-up checks refuse, begin none.
 */
class EarlyBrokerStartTest {

    private EmbeddedKafkaBroker started;

    @AfterEach
    void stopWhatWasTaken() {
        EarlyBrokerStart.abandon(null);
        if (started != null) {
            started.stop();
        }
    }

    @Test
    void theBrokerBegunEarlyIsTakenOverOnce() throws IOException {
        int port = HubTestResource.freePort();
        Config config = config(port, HubTestResource.freePort(), Map.of());
        assertEquals(java.util.List.of(), io.handoff.hub.support.StartupChecks.problemsOf(config));
        EarlyBrokerStart.begin(config);
        Optional<EarlyBrokerStart.Started> taken = EarlyBrokerStart.take();
        assertTrue(taken.isPresent(), "the early broker");
        started = taken.get().broker();
        assertEquals("127.0.0.1:" + port, started.bootstrapServers());
        assertTrue(taken.get().startMs() >= 0);
        assertTrue(listening(port), "started and listening when taken");
        assertEquals(Optional.empty(), EarlyBrokerStart.take(), "taken over once");
        EarlyBrokerStart.abandon(null);
        assertTrue(listening(port), "a broker taken over is not stopped with the beans");
    }

    @Test
    void aFailedEarlyStartLeavesTheStartToKafkaBootstrap() throws IOException {
        // A log folder that cannot be made (a file is in its way): the start fails before any of Kafka's threads run.
        Path file = java.nio.file.Files.createTempFile("early-kafka", ".txt");
        EarlyBrokerStart.begin(config(HubTestResource.freePort(), HubTestResource.freePort(),
                Map.of("hub.kafka.embedded.log-dir", file.resolve("kafka").toString())));
        assertEquals(Optional.empty(), EarlyBrokerStart.take(), "nothing to take");
        java.nio.file.Files.delete(file);
    }

    @Test
    void aBrokerNobodyTookIsStoppedWithTheBeans() throws IOException {
        int port = HubTestResource.freePort();
        EarlyBrokerStart.begin(config(port, HubTestResource.freePort(), Map.of()));
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> listening(port));
        EarlyBrokerStart.abandon(null);
        assertTrue(!listening(port), "stopped");
        try (ServerSocket again = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            assertEquals(port, again.getLocalPort(), "its port is free again");
        }
        assertEquals(Optional.empty(), EarlyBrokerStart.take());
    }

    @Test
    void anExternalClusterOrRefusedSettingsBeginNoBroker() throws IOException {
        EarlyBrokerStart.begin(config(HubTestResource.freePort(), HubTestResource.freePort(),
                Map.of("hub.kafka.bootstrap-servers", "kafka.example:9092")));
        assertEquals(Optional.empty(), EarlyBrokerStart.take(), "an external cluster");
        EarlyBrokerStart.begin(config(HubTestResource.freePort(), HubTestResource.freePort(),
                Map.of("HUB_DB_URL", "jdbc:postgresql://db.example/hub")));
        assertEquals(Optional.empty(), EarlyBrokerStart.take(), "HUB_DB_URL without the PostgreSQL kind is refused");
    }

    private static Config config(int port, int controllerPort, Map<String, String> more) {
        Map<String, String> settings = new java.util.HashMap<>(Map.of(
                "hub.kafka.embedded.port", Integer.toString(port),
                "hub.kafka.embedded.controller-port", Integer.toString(controllerPort),
                "hub.kafka.embedded.log-dir", Path.of("target", "early-kafka", UUID.randomUUID().toString()).toString(),
                "hub.routes-dir", Path.of("routes").toAbsolutePath().toString(),
                // As application.properties sets it: room for the intake's in-flight webhooks and the probes.
                "quarkus.thread-pool.max-threads", "320"));
        settings.putAll(more);
        return new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(settings, "test", 100)).build();
    }

    private static boolean listening(int port) {
        try (java.net.Socket socket = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
