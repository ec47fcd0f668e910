package io.handoff.hub.kafka;

import java.nio.file.Path;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/** Kafka settings of the hub ({@code hub.kafka.*}). */
@ConfigMapping(prefix = "hub.kafka")
public interface KafkaSettings {

    /**
     * Bootstrap servers of an external Kafka cluster (env {@code KAFKA_BOOTSTRAP_SERVERS}). When empty, the hub
     * starts its embedded single-node broker.
     */
    @WithName("bootstrap-servers")
    Optional<String> externalBootstrapServers();

    Embedded embedded();

    Topics topics();

    /** True when the hub runs its own broker (no external bootstrap servers configured). */
    default boolean embeddedBroker() {
        return externalBootstrapServers().isEmpty();
    }

    /** The in-process KRaft broker used when no external cluster is configured. */
    interface Embedded {
        /** Client port of the embedded broker (PLAINTEXT on localhost). */
        @WithDefault("9092")
        int port();

        /** KRaft controller port of the embedded broker (localhost). */
        @WithDefault("9093")
        int controllerPort();

        /** Where the embedded broker keeps its log; formatted on first start, kept across restarts. */
        @WithDefault("data/kafka")
        Path logDir();
    }

    /** The topics the hub uses, and how it creates them at start-up. */
    interface Topics {
        /** Create missing topics at start-up (switch off where topics are managed as Strimzi KafkaTopic resources). */
        @WithDefault("true")
        boolean create();

        /** Partitions of topics the hub creates. */
        @WithDefault("3")
        int partitions();

        /** Replication factor of topics the hub creates; -1 takes the broker's default. */
        @WithDefault("-1")
        short replicationFactor();

        /** Topic of consent.changed events. */
        @WithDefault("handoff.consent")
        String consent();

        /** Topic of customer.created / customer.updated / customer.merged events. */
        @WithDefault("handoff.customer")
        String customer();

        /** Topic of address.validated events. */
        @WithDefault("handoff.address")
        String address();

        /** Topic of order.placed events. */
        @WithDefault("handoff.order")
        String order();

        /** Topic of inventory.changed events. */
        @WithDefault("handoff.inventory")
        String inventory();

        /** Topic of loyalty.tier.changed events. */
        @WithDefault("handoff.loyalty")
        String loyalty();

        /** Topic of promotion.eligibility.changed events. */
        @WithDefault("handoff.promotion")
        String promotion();

        /** Topic of waitlist.joined events. */
        @WithDefault("handoff.waitlist")
        String waitlist();

        /** Topic of feed.synced heartbeats. */
        @WithDefault("handoff.feed")
        String feed();

        /** Topic of the ledger's consent.applied and customer.merge.applied events, keyed by hub id. */
        @WithDefault("handoff.ledger")
        String ledger();

        /**
         * Stale channel: events of a time-sensitive feed that were older than the feed's tolerance when they arrived,
         * with the reason ({@code handoff_stale_reason}), instead of passing as current.
         */
        @WithDefault("handoff.stale")
        String stale();

        /** Dead-letter topic: what could not be delivered after the last retry, for replay. */
        @WithDefault("handoff.dead-letter")
        String deadLetter();
    }
}
