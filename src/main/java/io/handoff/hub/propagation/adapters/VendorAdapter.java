package io.handoff.hub.propagation.adapters;

import java.util.Set;

import io.handoff.hub.propagation.Delivery;
import io.handoff.hub.propagation.Outcome;
import io.handoff.hub.propagation.SubscriberAdapter;
import io.handoff.hub.propagation.SystemConfig;

/** Base of the adapters: the system's settings and name. */
abstract class VendorAdapter implements SubscriberAdapter {

    protected final SystemConfig config;
    private final Set<String> flagPurposes;

    VendorAdapter(SystemConfig config) {
        this.config = config;
        // hub.systems.<name>.purposes: what a system's single consent flag stands for (default marketing).
        this.flagPurposes = Set.of(config.value("purposes", "marketing").split("\\s*,\\s*"));
    }

    @Override
    public String system() {
        return config.name();
    }

    /**
     * For a system with one consent flag ({@code flag}) rather than one per purpose: a skip for a delivery of a
     * purpose that flag does not stand for, or null if the delivery is to be sent.
     */
    protected Outcome purposeNotMapped(Delivery d, String flag) {
        return flagPurposes.contains(d.purpose()) ? null
                : Outcome.skipped(d, "purpose-not-mapped: " + flag + " stands for " + flagPurposes + " ("
                        + config.key("purposes") + ")");
    }
}
