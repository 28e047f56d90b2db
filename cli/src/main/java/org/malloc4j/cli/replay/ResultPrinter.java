package org.malloc4j.cli.replay;

import java.util.List;

/** Writes replay results as they come: {@link TablePrinter} for people, {@link JsonLinesPrinter} for scripts. */
public interface ResultPrinter {
    /**
     * Called once before the first result, with the names of every trace to come; not at all when the first trace
     * cannot be read.
     */
    void begin(String allocator, List<String> traceNames);

    /** Writes one trace's result. */
    void result(ReplayResult result);

    /**
     * Called before {@link #end} when the replay stopped at a malformed trace, with what a reader of the results must
     * know: where it stopped and which traces it did not replay. Nothing by default (a JSON line is a trace's result).
     */
    default void incomplete(String notice) {}

    /** Called once after the last result. */
    void end();
}
