package org.malloc4j.cli.replay;

import java.util.List;

/** Writes replay results as they come: {@link TablePrinter} for people, {@link JsonLinesPrinter} for scripts. */
public interface ResultPrinter {
    /** Called once before the first result, with the names of every trace to come. */
    void begin(String allocator, List<String> traceNames);

    /** Writes one trace's result. */
    void result(ReplayResult result);

    /** Called once after the last result. */
    void end();
}
