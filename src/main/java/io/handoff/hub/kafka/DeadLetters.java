package io.handoff.hub.kafka;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.component.kafka.KafkaConstants;

/**
 * Labels a record on its way to the dead-letter topic with what a replay needs: the topic it came from, the route
 * that gave up and why (exception class and message; never the payload).
 */
@ApplicationScoped
@Named("deadLetters")
public class DeadLetters implements Processor {

    public static final String ORIGINAL_TOPIC = "handoff_original_topic";
    public static final String FAILED_ROUTE = "handoff_failed_route";
    public static final String ERROR = "handoff_error";

    private static final int MAX_ERROR_LENGTH = 500;

    @Override
    public void process(Exchange exchange) {
        String topic = exchange.getMessage().getHeader(KafkaConstants.TOPIC, String.class);
        if (topic != null) {
            exchange.getMessage().setHeader(ORIGINAL_TOPIC, topic);
        }
        exchange.getMessage().setHeader(FAILED_ROUTE, exchange.getFromRouteId());
        Exception cause = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
        if (cause != null) {
            String error = cause.getClass().getName() + ": " + cause.getMessage();
            exchange.getMessage().setHeader(ERROR,
                    error.length() > MAX_ERROR_LENGTH ? error.substring(0, MAX_ERROR_LENGTH) : error);
        }
    }
}
