package io.handoff.hub.propagation;

import java.util.List;

/**
 * Speaks one subscriber system's API for its propagation lane: turns a batch of deliveries into the vendor's calls
 * (one call for many where the API takes batches), makes them through the lane's {@link VendorClient} (rate-limited,
 * timed out) and reads each answer into an {@link Outcome} per delivery. The lane does the rest: retries with
 * backoff, pausing on rate limits, receipts and the dead-letter topic.
 */
public interface SubscriberAdapter {

    /** The system's name, as in {@code hub.systems.<name>.*}. */
    String system();

    /**
     * True if the system keys customers by email (Klaviyo, HubSpot): a merged customer's own email is then a record of
     * its own in that system, which a merge notifies.
     */
    default boolean keyedByEmail() {
        return false;
    }

    /**
     * True if the adapter sends a whole batch in few calls (Klaviyo's bulk jobs, HubSpot's batch write): its lane then
     * hands it the batch in one piece. Otherwise the lane sends parts of the batch in parallel
     * ({@code hub.systems.<name>.concurrency}, default 4), one customer's deliveries always in the same part.
     */
    default boolean batchesCalls() {
        return false;
    }

    /** One outcome for every consent (or merge) delivery of the batch, in any order. */
    List<Outcome> deliver(List<Delivery> batch, VendorClient client);

    /**
     * One outcome for every address delivery ({@link Delivery#KIND_ADDRESS}, the address in {@link AddressPayload}) of
     * the batch. A system that takes no addresses skips them.
     */
    default List<Outcome> deliverAddresses(List<Delivery> batch, VendorClient client) {
        return batch.stream().map(d -> Outcome.skipped(d, "not-applicable: " + system() + " takes no addresses"))
                .toList();
    }
}
