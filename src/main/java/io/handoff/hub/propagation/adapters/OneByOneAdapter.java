package io.handoff.hub.propagation.adapters;

import java.util.ArrayList;
import java.util.List;

import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SystemConfig;
import io.handoff.hub.propagation.VendorClient;

/** An adapter for an API that takes one customer per call: the batch is delivered one delivery at a time. */
abstract class OneByOneAdapter extends VendorAdapter {

    OneByOneAdapter(SystemConfig config) {
        super(config);
    }

    @Override
    public final List<Outcome> deliver(List<Delivery> batch, VendorClient client) {
        List<Outcome> outcomes = new ArrayList<>();
        for (Delivery d : batch) {
            outcomes.add(deliverOne(d, client));
        }
        return outcomes;
    }

    /** The outcome of one delivery. */
    protected abstract Outcome deliverOne(Delivery d, VendorClient client);
}
