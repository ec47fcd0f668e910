package io.handoff.hub.support;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

import io.agroal.api.AgroalDataSource;
import io.quarkus.arc.InjectableInstance;
import io.quarkus.test.junit.QuarkusTestProfile;

/**
 * A database that a test can take down and bring back: the hub's {@code hubDataSource} (every bean and route uses it)
 * wrapped in a {@link RefusingDataSource}. The hub takes a connection per statement or transaction, so one begun after
 * {@link #down()} fails as against an unreachable server. A test enables it with the profile {@link Profile}.
 */
@Alternative
public class SwitchableDatabase {

    private static volatile boolean down;
    private static final Map<String, Integer> REFUSED = new ConcurrentHashMap<>();

    /** Enables the switchable database, and retries through an outage every second instead of up to every 30 s. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public Set<Class<?>> getEnabledAlternatives() {
            return Set.of(SwitchableDatabase.class);
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("hub.consumers.max-outage-redelivery-delay-ms", "1000");
        }
    }

    /** From now on, every new connection is refused. */
    public static void down() {
        REFUSED.clear();
        down = true;
    }

    /** Connections are handed out again. */
    public static void up() {
        down = false;
    }

    /** How many connections were refused since {@link #down()}, on threads whose name contains {@code part}. */
    public static int refusedOn(String part) {
        return REFUSED.entrySet().stream().filter(e -> e.getKey().contains(part)).mapToInt(Map.Entry::getValue).sum();
    }

    @Produces
    @Singleton
    @Named("hubDataSource")
    DataSource hubDataSource(@Any InjectableInstance<AgroalDataSource> dataSources) {
        return new RefusingDataSource(dataSources.getActive(), SwitchableDatabase::refuse);
    }

    /** Whether to refuse a connection now; counts the refusal under the asking thread's name. */
    private static boolean refuse() {
        if (down) {
            REFUSED.merge(Thread.currentThread().getName(), 1, Integer::sum);
        }
        return down;
    }
}
