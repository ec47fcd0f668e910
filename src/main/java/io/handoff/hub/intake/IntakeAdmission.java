package io.handoff.hub.intake;

import java.util.concurrent.Semaphore;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Named;

import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Bounds the webhook deliveries a replica works on at once. The first step of every webhook route: a delivery beyond
 * the bound is answered 503 with {@code Retry-After} at once, before anything is read or written, instead of waiting
 * on a worker thread while the ones before it wait for Kafka and the database. The platform retries it later, and the
 * replica's memory stays bounded by the deliveries it holds (at most this many bodies of
 * {@code hub.intake.max-body-bytes}).
 */
@ApplicationScoped
@Named("intakeAdmission")
public class IntakeAdmission {

    /** Thrown for a delivery beyond the bound; answered 503 by the webhook-errors configuration. */
    public static final class OverloadedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        OverloadedException(int limit) {
            super("more than " + limit + " webhook deliveries in progress on this replica");
        }
    }

    private final int limit;
    private final Semaphore permits;

    public IntakeAdmission(
            // Webhook deliveries one replica works on at once; more are answered 503 with Retry-After at once.
            @ConfigProperty(name = "hub.intake.max-in-flight", defaultValue = "256") int limit) {
        this.limit = limit;
        this.permits = new Semaphore(limit);
    }

    /** Takes a place for the exchange until it completes, or throws {@link OverloadedException}. */
    public void admit(Exchange exchange) {
        if (!permits.tryAcquire()) {
            throw new OverloadedException(limit);
        }
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                permits.release();
            }
        });
    }

    /** Deliveries in progress now. */
    public int inFlight() {
        return limit - permits.availablePermits();
    }
}
