package io.handoff.hub.support;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

import javax.sql.DataSource;

/**
 * A database a test can make unreachable: while {@code down} answers true, every new connection is refused the way
 * an unreachable server refuses it (SQL state 08001); connections handed out before finish their work.
 */
public record RefusingDataSource(DataSource delegate, BooleanSupplier down) implements DataSource {

    @Override
    public Connection getConnection() throws SQLException {
        refuseWhileDown();
        return delegate.getConnection();
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
        refuseWhileDown();
        return delegate.getConnection(user, password);
    }

    private void refuseWhileDown() throws SQLException {
        if (down.getAsBoolean()) {
            throw new SQLTransientConnectionException("Connection refused (test)", "08001");
        }
    }

    @Override
    public PrintWriter getLogWriter() throws SQLException {
        return delegate.getLogWriter();
    }

    @Override
    public void setLogWriter(PrintWriter out) throws SQLException {
        delegate.setLogWriter(out);
    }

    @Override
    public void setLoginTimeout(int seconds) throws SQLException {
        delegate.setLoginTimeout(seconds);
    }

    @Override
    public int getLoginTimeout() throws SQLException {
        return delegate.getLoginTimeout();
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        return delegate.getParentLogger();
    }

    @Override
    public <T> T unwrap(Class<T> type) throws SQLException {
        return type.isInstance(this) ? type.cast(this) : delegate.unwrap(type);
    }

    @Override
    public boolean isWrapperFor(Class<?> type) throws SQLException {
        return type.isInstance(this) || delegate.isWrapperFor(type);
    }
}
