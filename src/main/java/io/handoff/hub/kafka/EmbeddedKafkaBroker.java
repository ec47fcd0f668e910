package io.handoff.hub.kafka;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.TreeSet;

import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;

import org.jboss.logging.Logger;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;

/**
 * An in-process single-node Kafka KRaft server (broker and controller in one), the hub's no-configuration default.
 * The log directory persists: it is formatted with a fixed cluster id on first start only, so events survive a
 * restart of the hub. {@link #stop()} then {@link #start()} restarts it on the same ports with the same data.
 */
public final class EmbeddedKafkaBroker {

    /** Fixed so that a formatted data directory is recognised on the next start (22-character base64 UUID). */
    static final String CLUSTER_ID = "q1Sh-9_ISia_zwGINzRvyQ";
    private static final String HOST = "127.0.0.1";
    private static final int NODE_ID = 1;

    private final int brokerPort;
    private final int controllerPort;
    private final Path logDir;

    private static final Logger LOG = Logger.getLogger(EmbeddedKafkaBroker.class);

    private KafkaRaftServer server;

    public EmbeddedKafkaBroker(int brokerPort, int controllerPort, Path logDir) {
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
        this.logDir = logDir.toAbsolutePath();
    }

    public String bootstrapServers() {
        return HOST + ":" + brokerPort;
    }

    public Path logDir() {
        return logDir;
    }

    /** Whether both listen on the same ports and keep their data in the same folder. */
    public boolean sameAs(EmbeddedKafkaBroker other) {
        return brokerPort == other.brokerPort && controllerPort == other.controllerPort && logDir.equals(other.logDir);
    }

    /** Starts the broker; returns once its listeners are bound and metadata has caught up. */
    public synchronized void start() {
        if (server != null) {
            return;
        }
        reportKafkasExits();
        KafkaConfig config = KafkaConfig.fromProps(brokerProperties(), false);
        formatIfNeeded(config);
        // A KafkaRaftServer cannot be started twice: every start takes a new one.
        KafkaRaftServer candidate = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            candidate.startup();
        } catch (RuntimeException e) {
            try {
                candidate.shutdown();
                candidate.awaitShutdown();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        server = candidate;
    }

    /**
     * The embedded broker shares the hub's JVM, and Kafka ends a process on a fatal fault with {@link Exit} (every log
     * directory failed, a metadata fault): that ended the hub, or a test JVM, with exit code 1 and no word why. Each
     * such end is now logged first, with Kafka's reason and the stack that asked for it; then the JVM ends as Kafka
     * meant it to (a broker in that state cannot take the hub's events; Kubernetes restarts the pod).
     */
    private static void reportKafkasExits() {
        Exit.setExitProcedure((code, message) -> {
            reportEnd("exit", code, message);
            System.exit(code);
        });
        Exit.setHaltProcedure((code, message) -> {
            reportEnd("halt", code, message);
            Runtime.getRuntime().halt(code);
        });
    }

    private static void reportEnd(String how, int code, String message) {
        LOG.errorf(new IllegalStateException("Kafka's " + how), "the embedded Kafka broker ends the JVM (%s %d): %s",
                how, code, message);
    }

    /** Stops the broker and waits until its ports and log directory lock are released. */
    public synchronized void stop() {
        KafkaRaftServer running = server;
        if (running == null) {
            return;
        }
        server = null;
        running.shutdown();
        running.awaitShutdown();
    }

    private Properties brokerProperties() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("listeners", "PLAINTEXT://" + HOST + ":" + brokerPort + ",CONTROLLER://" + HOST + ":" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        // One node: every internal topic has one replica.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // The hub creates its topics itself; a typo in a topic name should fail, not create a new topic.
        p.put("auto.create.topics.enable", "false");
        // The log cleaner (it compacts __consumer_offsets) allocates its deduplication buffer on the heap when it
        // starts: Kafka's default, 128 MiB, was half of an idle hub's heap. 16 MiB holds the offsets of some 700,000
        // keys per cleaning pass, far more than one node's consumer groups write between passes.
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(16 * 1024 * 1024));
        return p;
    }

    private void formatIfNeeded(KafkaConfig config) {
        TreeSet<String> dirs = new TreeSet<>(config.logDirs());
        dirs.add(config.metadataLogDir());
        boolean formatted = dirs.stream().allMatch(d -> Files.exists(Path.of(d, "meta.properties")));
        if (formatted) {
            // Kafka checks that the directories agree with each other, not that they are ours.
            for (String dir : dirs) {
                String existing = clusterIdOf(Path.of(dir, "meta.properties"));
                if (!CLUSTER_ID.equals(existing)) {
                    throw new IllegalStateException(dir + " belongs to Kafka cluster " + existing
                            + ", not to the hub's embedded broker; point hub.kafka.embedded.log-dir elsewhere");
                }
            }
            return;
        }
        try {
            for (String dir : dirs) {
                Files.createDirectories(Path.of(dir));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Formatter formatter = new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setClusterId(CLUSTER_ID)
                .setNodeId(config.nodeId())
                .setControllerListenerName(config.controllerListenerNames().get(0))
                .setMetadataLogDirectory(config.metadataLogDir())
                .setUnstableFeatureVersionsEnabled(config.unstableFeatureVersionsEnabled())
                .setIgnoreFormatted(true);
        dirs.forEach(formatter::addDirectory);
        try {
            formatter.run();
        } catch (Exception e) {
            throw new IllegalStateException("formatting the embedded Kafka storage in " + dirs + " failed", e);
        }
    }

    private static String clusterIdOf(Path metaProperties) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(metaProperties)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("cluster.id");
    }
}
