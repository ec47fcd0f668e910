package io.handoff.hub.support;

import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import jakarta.inject.Inject;
import jakarta.inject.Named;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import io.handoff.hub.event.CanonicalEventCodec;
import io.handoff.hub.event.EventType.Domain;
import io.handoff.hub.kafka.HubTopics;

/**
 * Base of webhook tests: marks the end of every hub topic before each test, so {@link #written()} returns exactly
 * what the test's requests produced.
 */
public abstract class KafkaMarkedTest {

    @Inject
    protected HubTopics topics;

    @Inject
    @Named("hubDataSource")
    protected DataSource dataSource;

    @Inject
    protected CanonicalEventCodec codec;

    private KafkaProbe probe;
    private Map<TopicPartition, Long> mark;

    @BeforeEach
    void markKafka() {
        probe = new KafkaProbe(probedTopics());
        mark = probe.mark();
    }

    /**
     * The topics {@link #written()} reads: by default the ones the intake writes to. The ledger's output topic and
     * the stale channel are left out: consumers write to them asynchronously after the intake's answer.
     */
    protected List<String> probedTopics() {
        return topics.all().stream().filter(t -> !t.equals(topics.forDomain(Domain.LEDGER))
                && !t.equals(topics.stale())).toList();
    }

    @AfterEach
    void closeProbe() {
        probe.close();
    }

    /** Every record written to a hub topic since the test began. */
    protected List<ConsumerRecord<String, byte[]>> written() {
        return probe.since(mark);
    }
}
