package io.handoff.hub.propagation.adapters;

/** Where an adapter records an id it looked up (by email) in its system, so the next delivery needs no lookup. */
@FunctionalInterface
public interface SystemIdLinks {

    void link(String hubId, String system, String systemId);
}
