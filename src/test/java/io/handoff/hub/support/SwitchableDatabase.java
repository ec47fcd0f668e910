package io.handoff.hub.support;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

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
 * wrapped so that, while down, each new connection is refused the way an unreachable server refuses it. Connections
 * already handed out finish their work; the hub takes one per statement or transaction, so a statement begun after
 * {@link #down()} fails. A test enables it with the profile {@link Profile}.
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

    /** The threads that were refused a connection since {@link #down()}. */
    public static Set<String> refusedThreads() {
        return Set.copyOf(REFUSED.keySet());
    }

    @Produces
    @Singleton
    @Named("hubDataSource")
    DataSource hubDataSource(@Any InjectableInstance<AgroalDataSource> dataSources) {
        return new Switchable(dataSources.getActive());
    }

    private record Switchable(DataSource pool) implements DataSource {

        private static void refuseWhileDown() throws SQLException {
            if (down) {
                REFUSED.merge(Thread.currentThread().getName(), 1, Integer::sum);
                throw new SQLTransientConnectionException("database down (test)", "08001");
            }
        }

        @Override
        public Connection getConnection() throws SQLException {
            refuseWhileDown();
            return pool.getConnection();
        }

        @Override
        public Connection getConnection(String user, String password) throws SQLException {
            refuseWhileDown();
            return pool.getConnection(user, password);
        }

        @Override
        public PrintWriter getLogWriter() throws SQLException {
            return pool.getLogWriter();
        }

        @Override
        public void setLogWriter(PrintWriter out) throws SQLException {
            pool.setLogWriter(out);
        }

        @Override
        public void setLoginTimeout(int seconds) throws SQLException {
            pool.setLoginTimeout(seconds);
        }

        @Override
        public int getLoginTimeout() throws SQLException {
            return pool.getLoginTimeout();
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            return pool.getParentLogger();
        }

        @Override
        public <T> T unwrap(Class<T> type) throws SQLException {
            return type.isInstance(this) ? type.cast(this) : pool.unwrap(type);
        }

        @Override
        public boolean isWrapperFor(Class<?> type) throws SQLException {
            return type.isInstance(this) || pool.isWrapperFor(type);
        }
    }
}
