package io.handoff.hub.feeds;

import jakarta.enterprise.context.ApplicationScoped;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;

import io.handoff.hub.event.CanonicalEvent;
import io.handoff.hub.intake.EventPublisher;
import io.handoff.hub.kafka.HubTopics;

/**
 * Publishes events the hub makes itself (a poller's orders, a run's {@code feed.synced} heartbeat) to their domain
 * topic, the same record shape as intake's, and waits for the broker's ack.
 */
@ApplicationScoped
public class FeedPublisher {

    private final ProducerTemplate producer;
    private final EventPublisher publisher;
    private final HubTopics topics;

    public FeedPublisher(CamelContext camel, EventPublisher publisher, HubTopics topics) {
        this.producer = camel.createProducerTemplate();
        this.publisher = publisher;
        this.topics = topics;
    }

    /** @throws IllegalStateException if Kafka did not take it (the caller's run fails and is tried again) */
    public void publish(CanonicalEvent event) {
        Exchange result = producer.send("kafka:" + topics.forDomain(event.type().domain()), exchange -> {
            exchange.getMessage().setBody(event);
            publisher.toRecord(exchange);
        });
        if (result.getException() != null) {
            throw new IllegalStateException("Kafka did not take " + event.type().wireName() + " " + event.id() + " ("
                    + result.getException() + ")", result.getException());
        }
    }
}
