package io.handoff.hub.support;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.jboss.logmanager.ExtLogRecord;

/**
 * The log lines one logger category (and its children; {@code ""} for all) writes at or above a level while a test
 * runs, each as the logger's name, the formatted message and the stack trace if any.
 */
public final class LogCapture extends Handler implements AutoCloseable {

    private final Logger logger;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private LogCapture(String category, Level level) {
        this.logger = Logger.getLogger(category);
        setLevel(level);
        logger.addHandler(this);
    }

    /** Starts recording the lines of {@code category} at {@code level} and above; stops on {@link #close()}. */
    public static LogCapture of(String category, Level level) {
        return new LogCapture(category, level);
    }

    /** Every line recorded so far. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** The recorded lines that contain {@code text}. */
    public List<String> containing(String text) {
        return lines.stream().filter(line -> line.contains(text)).toList();
    }

    @Override
    public void publish(LogRecord record) {
        if (!isLoggable(record)) {
            return;
        }
        String message = record instanceof ExtLogRecord ext ? ext.getFormattedMessage() : record.getMessage();
        StringWriter trace = new StringWriter();
        if (record.getThrown() != null) {
            record.getThrown().printStackTrace(new PrintWriter(trace));
        }
        lines.add(record.getLoggerName() + " " + message + " " + trace);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
