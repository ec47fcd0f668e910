package io.handoff.hub.kafka;

import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.handoff.hub.event.EventType.Domain;

/** The hub's topic names by domain, from {@link KafkaSettings.Topics}. */
@ApplicationScoped
public class HubTopics {

    private final Map<Domain, String> byDomain = new EnumMap<>(Domain.class);
    private final String deadLetter;
    private final String stale;

    public HubTopics(KafkaSettings settings) {
        KafkaSettings.Topics t = settings.topics();
        byDomain.put(Domain.CONSENT, t.consent());
        byDomain.put(Domain.CUSTOMER, t.customer());
        byDomain.put(Domain.ADDRESS, t.address());
        byDomain.put(Domain.ORDER, t.order());
        byDomain.put(Domain.INVENTORY, t.inventory());
        byDomain.put(Domain.LOYALTY, t.loyalty());
        byDomain.put(Domain.PROMOTION, t.promotion());
        byDomain.put(Domain.WAITLIST, t.waitlist());
        byDomain.put(Domain.FEED, t.feed());
        byDomain.put(Domain.LEDGER, t.ledger());
        this.deadLetter = t.deadLetter();
        this.stale = t.stale();
    }

    /** Where stale events of time-sensitive feeds go instead of passing as current. */
    public String stale() {
        return stale;
    }

    public String forDomain(Domain domain) {
        return byDomain.get(domain);
    }

    public String deadLetter() {
        return deadLetter;
    }

    /** Every topic the hub uses. */
    public Set<String> all() {
        Set<String> all = new LinkedHashSet<>(byDomain.values());
        all.add(stale);
        all.add(deadLetter);
        return all;
    }
}
