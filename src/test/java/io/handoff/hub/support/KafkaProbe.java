package io.handoff.hub.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Reads what the hub wrote to Kafka since a mark: {@link #mark()} remembers the end offsets of the given topics,
 * {@link #since(Map)} returns every record written after them. Because the hub answers 2xx only after the broker
 * acknowledged, and 4xx/5xx only when nothing was sent, a check right after the answer sees the final state.
 */
public final class KafkaProbe implements AutoCloseable {

    private final KafkaConsumer<String, byte[]> consumer;
    private final List<String> topics;

    public KafkaProbe(List<String> topics) {
        this(ConfigProvider.getConfig().getValue("camel.component.kafka.brokers", String.class), topics);
    }

    public KafkaProbe(String bootstrapServers, List<String> topics) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "probe-" + UUID.randomUUID());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.topics = List.copyOf(topics);
    }

    /** The current end offset of every partition of the probed topics. */
    public Map<TopicPartition, Long> mark() {
        return consumer.endOffsets(partitions(), Duration.ofSeconds(10));
    }

    /** Every record written to the probed topics after the mark. */
    public List<ConsumerRecord<String, byte[]>> since(Map<TopicPartition, Long> mark) {
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions(), Duration.ofSeconds(10));
        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        List<TopicPartition> pending = new ArrayList<>();
        for (var entry : end.entrySet()) {
            if (entry.getValue() > mark.getOrDefault(entry.getKey(), 0L)) {
                pending.add(entry.getKey());
            }
        }
        if (pending.isEmpty()) {
            return records;
        }
        consumer.assign(pending);
        pending.forEach(tp -> consumer.seek(tp, mark.getOrDefault(tp, 0L)));
        List<TopicPartition> remaining = new ArrayList<>(pending);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!remaining.isEmpty() && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                if (record.offset() < end.get(tp)) {
                    records.add(record);
                }
            }
            remaining.removeIf(tp -> consumer.position(tp) >= end.get(tp));
        }
        if (!remaining.isEmpty()) {
            throw new AssertionError("could not read " + remaining + " to their end offsets within 20 s");
        }
        consumer.unsubscribe();
        return records;
    }

    /** A record header as UTF-8 text, or null if the record has none of that name. */
    public static String header(ConsumerRecord<String, byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private List<TopicPartition> partitions() {
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            for (PartitionInfo info : consumer.partitionsFor(topic, Duration.ofSeconds(10))) {
                partitions.add(new TopicPartition(topic, info.partition()));
            }
        }
        return partitions;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
