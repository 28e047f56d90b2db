package org.malloc4j.cli.replay;

import java.util.ArrayList;
import java.util.List;

/**
 * Counts the errors a replay finds (a block whose content changed, blocks that overlap, a failed call) and keeps
 * the messages of the first few, so that a broken allocator gives a count and a readable sample, not a stop at
 * the first.
 */
public final class ReplayErrors {
    /** How many messages are kept by default. */
    public static final int KEPT = 5;

    private final int keep;
    private final List<String> first = new ArrayList<>();
    private long count;

    /** @param keep how many messages to keep */
    public ReplayErrors(int keep) {
        this.keep = keep;
    }

    /** Records one error. */
    public void add(String message) {
        count++;
        if (first.size() < keep) first.add(message);
    }

    /** @return the number of errors recorded */
    public long count() {
        return count;
    }

    /** @return the messages of the first errors, at most the number asked for */
    public List<String> first() {
        return List.copyOf(first);
    }
}
