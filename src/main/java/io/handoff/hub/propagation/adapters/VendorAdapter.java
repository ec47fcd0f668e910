package io.handoff.hub.propagation.adapters;

import java.util.ArrayList;
import java.util.List;

import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SubscriberAdapter;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorClient;

/**
 * Base of the adapters: the system's settings, and for APIs that take one customer per call, the loop that delivers a
 * batch one delivery at a time ({@link #deliverOne}); batching adapters override {@link #deliver} instead.
 */
abstract class VendorAdapter implements SubscriberAdapter {

    protected final SystemConfig config;

    VendorAdapter(SystemConfig config) {
        this.config = config;
    }

    @Override
    public String system() {
        return config.name();
    }

    @Override
    public List<Outcome> deliver(List<Delivery> batch, VendorClient client) {
        List<Outcome> outcomes = new ArrayList<>();
        for (Delivery d : batch) {
            outcomes.add(deliverOne(d, client));
        }
        return outcomes;
    }

    /** The outcome of one delivery, for APIs that take one customer per call. */
    protected Outcome deliverOne(Delivery d, VendorClient client) {
        throw new UnsupportedOperationException(system() + " delivers whole batches");
    }
}
