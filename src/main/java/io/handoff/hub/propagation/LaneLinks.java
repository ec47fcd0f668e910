package io.handoff.hub.propagation;

import java.util.concurrent.ConcurrentLinkedQueue;

import io.handoff.hub.identity.IdentityResolver;
import io.handoff.hub.propagation.adapters.SystemIdLinks;

/**
 * The system ids a lane's adapter found by lookup (a Salesforce Contact by email, a Shopify customer), kept until the
 * lane stores its batch's receipts and linked in that same transaction: one commit per batch instead of one per id.
 * The links only save the next delivery its lookup; if the receipts cannot be stored, the next lookup finds the ids
 * again. Safe for a lane that calls its vendor from several threads.
 */
final class LaneLinks implements SystemIdLinks {

    private record Link(String hubId, String system, String systemId) {
    }

    private final IdentityResolver identity;
    private final ConcurrentLinkedQueue<Link> pending = new ConcurrentLinkedQueue<>();

    LaneLinks(IdentityResolver identity) {
        this.identity = identity;
    }

    @Override
    public void link(String hubId, String system, String systemId) {
        pending.add(new Link(hubId, system, systemId));
    }

    /** Links every id found so far; called inside the transaction that stores the receipts. */
    void flush() {
        for (Link link = pending.poll(); link != null; link = pending.poll()) {
            identity.link(link.hubId(), link.system(), link.systemId());
        }
    }
}
