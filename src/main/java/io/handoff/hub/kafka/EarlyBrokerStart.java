package io.handoff.hub.kafka;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.context.BeforeDestroyed;
import jakarta.enterprise.context.Initialized;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import io.handoff.hub.support.StartupChecks;
import io.quarkus.runtime.LaunchMode;

/**
 * Starts the embedded broker on its own thread as soon as the application's beans exist, so that the broker's own
 * start runs while Quarkus migrates the database and Camel loads the routes, instead of after them.
 * {@link KafkaBootstrap} takes the started broker over before Camel starts its routes, and stops it after Camel has
 * stopped. CDI's {@code @Initialized(ApplicationScoped.class)} event is the earliest point the application is called;
 * Quarkus fires it before its runtime configuration objects exist, so the broker's settings are read here from the
 * raw configuration (the keys {@link KafkaSettings} maps, which {@link KafkaBootstrap} compares). Settings that
 * {@link StartupChecks} refuses start no broker. A broker nobody took over (the start failed later, before Camel
 * started) is stopped when the application's beans are destroyed, so its threads do not outlive a failed start.
 */
@ApplicationScoped
class EarlyBrokerStart {

    private static final Logger LOG = Logger.getLogger(EarlyBrokerStart.class);

    /** How long a failed start waits for a broker still starting, to stop it. */
    private static final Duration ABANDON_WAIT = Duration.ofSeconds(60);

    /** The broker being started, until {@link KafkaBootstrap} takes it ({@link #take()}); null when none is. */
    private static volatile CompletableFuture<Started> starting;

    /** A started broker and how long its start took. */
    record Started(EmbeddedKafkaBroker broker, long startMs) {
    }

    static void begin(@Observes @Initialized(ApplicationScoped.class) Object event) {
        if (LaunchMode.current() != LaunchMode.NORMAL) {
            // Tests and dev mode add configuration at runtime (test resources' ports and folders), after this event.
            return;
        }
        begin(ConfigProvider.getConfig());
    }

    /** Begins the broker's start on its own thread, unless the settings name an external cluster or are refused. */
    static void begin(Config config) {
        boolean external = config.getOptionalValue("hub.kafka.bootstrap-servers", String.class)
                .filter(s -> !s.isBlank()).isPresent();
        if (external || !StartupChecks.problemsOf(config).isEmpty()) {
            return; // a refused start starts no broker: StartupChecks says why at BeforeInitialize
        }
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(
                config.getOptionalValue("hub.kafka.embedded.port", Integer.class).orElse(9092),
                config.getOptionalValue("hub.kafka.embedded.controller-port", Integer.class).orElse(9093),
                config.getOptionalValue("hub.kafka.embedded.log-dir", Path.class).orElse(Path.of("data/kafka")));
        CompletableFuture<Started> future = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            long began = System.nanoTime();
            try {
                broker.start();
                future.complete(new Started(broker, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began)));
            } catch (Throwable e) {
                future.completeExceptionally(e);
            }
        }, "embedded-kafka-start");
        thread.setDaemon(true);
        starting = future;
        thread.start();
    }

    /**
     * The broker started early, waited for; empty if none was begun (an external cluster, tests) or its start failed
     * (then {@link KafkaBootstrap} starts one itself, and reports that start's failure if it fails again).
     */
    static Optional<Started> take() {
        CompletableFuture<Started> future = starting;
        if (future == null) {
            return Optional.empty();
        }
        starting = null;
        try {
            return Optional.of(future.get());
        } catch (ExecutionException e) {
            LOG.debugf(e.getCause(), "the embedded Kafka broker's early start failed; starting it again");
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the embedded Kafka broker", e);
        }
    }

    static void abandon(@Observes @BeforeDestroyed(ApplicationScoped.class) Object event) {
        CompletableFuture<Started> future = starting;
        if (future == null) {
            return; // none begun, or taken over
        }
        starting = null; // stopped here: not to be taken over afterwards
        try {
            future.get(ABANDON_WAIT.toSeconds(), TimeUnit.SECONDS).broker().stop();
            LOG.info("embedded Kafka broker stopped (the hub did not start)");
        } catch (ExecutionException e) {
            // it did not start: nothing to stop
        } catch (TimeoutException e) {
            // its start hangs: the JVM's exit (a failed start ends it) stops its daemon thread
            LOG.warnf("the embedded Kafka broker was still starting %d s after the hub's start failed; not waiting",
                    ABANDON_WAIT.toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
