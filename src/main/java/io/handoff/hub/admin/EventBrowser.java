package io.handoff.hub.admin;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.handoff.hub.kafka.HubTopics;
import io.handoff.hub.support.ClientErrorException;
import io.handoff.hub.support.Json;
import io.handoff.hub.support.JsonAnswers;

/**
 * {@code GET /api/events?topic=<hub topic>&limit=<1..100>}: the latest records of one of the hub's topics, newest
 * first, with key, partition, offset and the event itself. For operators checking what a webhook produced; it reads
 * without a consumer group, so it never moves any route's offsets.
 */
@ApplicationScoped
@Named("eventBrowser")
public class EventBrowser {

    static final int DEFAULT_LIMIT = 20;
    static final int MAX_LIMIT = 100;
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final HubTopics topics;
    private final String bootstrapServers;

    public EventBrowser(HubTopics topics,
            @ConfigProperty(name = "camel.component.kafka.brokers") String bootstrapServers) {
        this.topics = topics;
        this.bootstrapServers = bootstrapServers;
    }

    public void recent(Exchange exchange) {
        String topic = exchange.getMessage().getHeader("topic", String.class);
        if (topic == null || !topics.all().contains(topic)) {
            throw new ClientErrorException(400, "unknown_topic", "topic must be one of " + topics.all());
        }
        int limit = limit(exchange.getMessage().getHeader("limit", String.class));
        ArrayNode events = Json.MAPPER.createArrayNode();
        for (ConsumerRecord<String, byte[]> record : latest(topic, limit)) {
            ObjectNode entry = events.addObject();
            entry.put("topic", record.topic());
            entry.put("partition", record.partition());
            entry.put("offset", record.offset());
            entry.put("key", record.key());
            entry.put("timestamp", Instant.ofEpochMilli(record.timestamp()).toString());
            try {
                entry.set("event", Json.MAPPER.readTree(record.value()));
            } catch (java.io.IOException notJson) {
                entry.put("value", new String(record.value(), StandardCharsets.UTF_8));
            }
        }
        ObjectNode body = Json.MAPPER.createObjectNode().put("topic", topic);
        body.set("events", events);
        JsonAnswers.answer(exchange, 200, body);
    }

    static int limit(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_LIMIT;
        }
        try {
            int limit = Integer.parseInt(text.strip());
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw new ClientErrorException(400, "invalid_limit", "limit must be an integer from 1 to " + MAX_LIMIT);
    }

    List<ConsumerRecord<String, byte[]>> latest(String topic, int limit) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, "handoff-event-browser");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, TIMEOUT).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions, TIMEOUT);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, TIMEOUT);
            consumer.assign(partitions);
            List<TopicPartition> pending = new ArrayList<>();
            for (TopicPartition tp : partitions) {
                long from = Math.max(begin.get(tp), end.get(tp) - limit);
                if (from < end.get(tp)) {
                    consumer.seek(tp, from);
                    pending.add(tp);
                }
            }
            consumer.assign(pending);
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (!pending.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                pending.removeIf(tp -> consumer.position(tp) >= end.get(tp));
            }
            return records.stream()
                    .sorted(Comparator.comparingLong((ConsumerRecord<String, byte[]> r) -> r.timestamp()).reversed())
                    .limit(limit)
                    .toList();
        }
    }
}
